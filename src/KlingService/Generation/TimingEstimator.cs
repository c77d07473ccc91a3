namespace KlingService.Generation;

/// <summary>
/// Turns one finished job into the statistics it adds to the model (the E-step of an online EM).
/// The finish is only known to lie between two checks. Its midpoint would be badly wrong exactly
/// when the policy works well: a check aimed just past the eta finds the task done, and the interval
/// then spans from the first check to that one. The bound would be worse: the model would learn its
/// own aim and ratchet later. So once a quantity is warm, each interval counts by its expected
/// moments under the current fit; a check that finds a task still running bounds it from below and
/// pulls the fit back, which is why the policy's aimed check is allowed to miss now and then.
/// Before the model is warm (today's policy, whose checks bracket the finish closely) the log midpoint
/// of the interval is used, or its upper bound when nothing bounds it from below.
/// </summary>
public static class TimingEstimator
{
    public static TimingStatistics Contribution(TimingObservation job, TimingStatistics current, int warmAfter)
    {
        if (job.FinishedBy <= 0)
        {
            return TimingStatistics.Cold;
        }

        LogMoments etaError = default;
        double? total = null;
        if (job.FirstEtaSeconds is int eta && eta > 0 && job.FirstEtaStatedAt is { } statedAt && job.FinishedBy > statedAt)
        {
            var stated = (double)eta;
            var low = job.FinishedAfter - statedAt;
            etaError = Estimate(current.EtaError, warmAfter, low > 0 ? Math.Log(low / stated) : double.NegativeInfinity, Math.Log((job.FinishedBy - statedAt) / stated));
            // The eta read through the learned error places the finish far better than the checks
            // around it: after an aimed check those span from the first check to the finish.
            total = Math.Clamp(statedAt + (stated * Math.Exp(etaError.Sum)), Math.Max(job.FinishedAfter, 0.001), job.FinishedBy);
        }

        var totalMoments = total is { } known
            ? LogMoments.Point(Math.Log(known))
            : Estimate(current.Total, warmAfter, job.FinishedAfter > 0 ? Math.Log(job.FinishedAfter) : double.NegativeInfinity, Math.Log(job.FinishedBy));
        return new TimingStatistics(totalMoments, etaError);
    }

    private static LogMoments Estimate(LogMoments current, int warmAfter, double low, double high)
    {
        if (current.Weight >= warmAfter)
        {
            return current.Censored(low, high);
        }

        return LogMoments.Point(double.IsNegativeInfinity(low) ? high : (low + high) / 2);
    }
}
