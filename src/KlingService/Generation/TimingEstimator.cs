namespace KlingService.Generation;

/// <summary>
/// Turns one finished job into the statistics it adds to the model. The finish is only known to lie
/// between the last check that saw the task running and the one that found it done, and the two
/// usual readings of such an interval both fail here: its midpoint is badly wrong exactly when the
/// policy works (a check aimed just past the eta finds the task done, and the interval then spans
/// from the first check to that one), and its bound would make the model learn its own aim and
/// ratchet later. So:
/// <list type="bullet">
/// <item>A job seen running after its first eta (an aimed check that came early, a probe, or any
/// job before the model is warm) is placed by the eta its last running check stated: only seconds
/// long, read through the error learned so far, it errs by about a second at most.</item>
/// <item>A job found done by the first check after its eta, once the model is warm, is bounded only
/// from above: it counts by its expected moments under the current fit (one step of online EM), so
/// an aim that was late says nothing, and one that was early pulls the fit down.</item>
/// <item>Without an eta: the log midpoint of the interval while cold, then the same EM step. The
/// checks are then at most an interval apart, so the interval is narrow.</item>
/// </list>
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
        // Before the model is warm, the last, shortest eta places the finish: it is only seconds
        // long, so it errs by little, and less once read through the error learned so far (which
        // makes the cold estimate converge on the provider's bias rather than stop a second short).
        double? lastEtaFinish = job.LastEtaSeconds is int last && last > 0
            ? Math.Clamp(job.FinishedAfter + ((last - 0.5) * Math.Exp(current.EtaError.Mean)), job.FinishedAfter, job.FinishedBy)
            : null;
        if (job.FirstEtaSeconds is int eta && eta > 0 && job.FirstEtaStatedAt is { } statedAt && job.FinishedBy > statedAt)
        {
            if (current.EtaError.Weight >= warmAfter && !(lastEtaFinish is not null && job.FinishedAfter > statedAt))
            {
                // The provider rounds its eta up to whole seconds: the estimate it rounded lay in
                // (eta - 1, eta]. Widening the interval by that keeps the rounding, which is no error of
                // the provider's and matters only for short etas, out of the learned error.
                var low = job.FinishedAfter - statedAt;
                var high = job.FinishedBy - statedAt;
                etaError = current.EtaError.Censored(
                    low > 0 ? Math.Log(low / eta) : double.NegativeInfinity,
                    eta > 1 ? Math.Log(high / (eta - 1)) : double.PositiveInfinity);
                if (eta > 1)
                {
                    // Sheppard's correction: the widening's own variance (a uniform over its width) is
                    // rounding, not spread in the provider's estimates, and would keep the fit wide forever.
                    // One job's share may go below zero; the sum over jobs is what counts (and is floored).
                    var rounding = Math.Log(eta / (eta - 1.0));
                    etaError = etaError with { SumOfSquares = etaError.SumOfSquares - (rounding * rounding / 12) };
                }
            }
            else
            {
                var finish = lastEtaFinish ?? (job.FinishedAfter + job.FinishedBy) / 2;
                var remaining = Math.Max(finish - statedAt, 0.001);
                etaError = LogMoments.Point(Math.Log(remaining / (eta - 0.5)));
                if (lastEtaFinish is not null)
                {
                    // Both etas were rounded to whole seconds, so the point carries their rounding
                    // (a uniform second each) as noise: take its variance out, as Sheppard's correction
                    // does, or the model would stay as wide as the rounding.
                    var noise = ((1.0 / (eta - 0.5)) * (1.0 / (eta - 0.5)) / 12) + (Math.Exp(2 * current.EtaError.Mean) / (remaining * remaining) / 12);
                    etaError = etaError with { SumOfSquares = etaError.SumOfSquares - noise };
                }
            }

            // The eta read through the learned error places the finish far better than the checks
            // around it: after an aimed check those span from the first check to the finish.
            total = Math.Clamp(statedAt + ((eta - 0.5) * Math.Exp(etaError.Sum)), Math.Max(job.FinishedAfter, 0.001), job.FinishedBy);
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

        return LogMoments.Point(
            double.IsNegativeInfinity(low) ? high
            : double.IsPositiveInfinity(high) ? low
            : (low + high) / 2);
    }
}
