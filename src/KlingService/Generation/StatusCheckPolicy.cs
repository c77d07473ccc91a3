using Microsoft.Extensions.Options;

namespace KlingService.Generation;

/// <summary>
/// When to look at a task next: a pure function of the job, what the timing model has learned for
/// its (mode, duration), and the settings.
/// <para>
/// Cold (fewer than <see cref="GenerationOptions.TimingWarmAfter"/> jobs learned): the first check
/// after <see cref="GenerationOptions.FirstCheckAfter"/>; a short eta is waited in full plus a little
/// slack, a long one only in part (it may be late, and waiting it whole would notice the finish long
/// after it happened); without an eta a steady interval.
/// </para>
/// <para>
/// Warm: the first check where only <see cref="GenerationOptions.FirstCheckShare"/> of jobs have
/// finished, so it nearly always learns the eta. An eta is read through its learned error: the check
/// goes for the finish (the corrected eta's late end at <see cref="GenerationOptions.AimConfidence"/>)
/// when the learned spread is narrow enough to catch it within <see cref="GenerationOptions.TargetLag"/>;
/// otherwise it looks at the early end plus that lag, catching an early finish in time or getting a
/// fresher, shorter eta. These aimed checks (the first, and those at an eta) may wait past
/// <see cref="GenerationOptions.MaxCheckInterval"/>, up to <see cref="GenerationOptions.MaxAimedCheckInterval"/>. Without an eta, checks are spaced by the learned hazard of finishing: sparse
/// where few jobs end, denser where many do, <see cref="GenerationOptions.NoEtaCheckInterval"/> apart
/// where the hazard is that at the median finish.
/// </para>
/// After failed checks, geometric backoff in every case, so a provider in trouble is not hammered.
/// </summary>
public sealed class StatusCheckPolicy(IOptions<GenerationOptions> options)
{
    private readonly GenerationOptions _options = options.Value;

    /// <summary>The first check before anything is learned.</summary>
    public TimeSpan FirstCheck() => FirstCheck(TimingStatistics.Cold);

    /// <summary>
    /// A planned check moved, if need be, to just before the job's deadline: a check aimed past it would let the
    /// deadline end as TimedOut a job whose video finished in time. Never sooner than <c>MinCheckInterval</c> from now,
    /// so a job at its deadline is not checked in a loop.
    /// </summary>
    public DateTimeOffset BeforeDeadline(VideoJobState job, DateTimeOffset now, DateTimeOffset due)
    {
        var latest = job.SubmittedAt + _options.JobDeadline - _options.MinCheckInterval;
        var soonest = now + _options.MinCheckInterval;
        return due <= latest ? due : latest > soonest ? latest : soonest;
    }

    public TimeSpan FirstCheck(TimingStatistics model) =>
        IsWarm(model.Total) ? ClampAimed(Seconds(FirstLikelyFinish(model.Total))) : _options.FirstCheckAfter;

    /// <summary>The next check before anything is learned.</summary>
    public TimeSpan NextCheck(VideoJobState job) => NextCheck(job, TimingStatistics.Cold, TimeSpan.Zero);

    /// <param name="job">The job as the last check left it (its eta was stated just now).</param>
    /// <param name="model">What is learned for the job's mode and duration.</param>
    /// <param name="elapsed">Time since the task was created.</param>
    public TimeSpan NextCheck(VideoJobState job, TimingStatistics model, TimeSpan elapsed)
    {
        if (job.ConsecutiveCheckFailures > 0)
        {
            return Backoff(job.ConsecutiveCheckFailures);
        }

        if (job.EtaSeconds is int eta && eta > 0)
        {
            return IsWarm(model.EtaError) ? AimAtEta(job, eta, model.EtaError) : StatedEta(TimeSpan.FromSeconds(eta));
        }

        return IsWarm(model.Total) ? AlongLikelyFinishes(model.Total, elapsed.TotalSeconds) : Clamp(_options.NoEtaCheckInterval);
    }

    /// <summary>How much earlier than the learned finish a probe looks (10 %).</summary>
    private const double ProbeLead = 0.1;

    private bool IsWarm(LogMoments learned) => learned.Weight >= _options.TimingWarmAfter;

    /// <summary>
    /// A check aimed just past the learned finish that finds the task done says only that it was done
    /// by then: were the provider's tasks to get faster, no such check would ever tell. So a steady
    /// share of jobs (<see cref="GenerationOptions.ProbeShare"/>, chosen by task) look a little early
    /// at their first aimed check: usually one more call that pins the finish down (the task is still
    /// running and states a short eta), or, if the provider got faster, the news.
    /// </summary>
    private bool IsProbe(VideoJobState job) =>
        job.FirstEtaAt is { } stated && job.LastRunningCheckAt == stated
        && (uint)(BitConverter.ToUInt32(job.CorrelationId.ToByteArray(), 0) * 2654435761u) % 1000 < _options.ProbeShare * 1000;

    private TimeSpan StatedEta(TimeSpan eta) =>
        Clamp(eta <= _options.ShortEta ? eta + _options.EtaSlack : eta * _options.EtaTrust);

    private TimeSpan AimAtEta(VideoJobState job, int eta, LogMoments error)
    {
        var z = NormalDistribution.Quantile(_options.AimConfidence);
        // The eta is rounded up to whole seconds: the provider's own estimate lay in (eta - 1, eta].
        var early = (eta - 1) * Math.Exp(error.Mean - (z * error.Spread));
        var late = eta * Math.Exp(error.Mean + (z * error.Spread));
        var target = Math.Min(late, early + _options.TargetLag.TotalSeconds);
        if (IsProbe(job))
        {
            target = Math.Min(target, eta * Math.Exp(error.Mean - ProbeLead));
        }

        return ClampAimed(Seconds(target));
    }

    /// <summary>A check aimed by what is learned may wait past <see cref="GenerationOptions.MaxCheckInterval"/>, up to its own bound.</summary>
    private TimeSpan ClampAimed(TimeSpan delay) =>
        delay < _options.MinCheckInterval ? _options.MinCheckInterval
        : delay > _options.MaxAimedCheckInterval ? _options.MaxAimedCheckInterval
        : delay;

    private TimeSpan AlongLikelyFinishes(LogMoments total, double elapsed)
    {
        var first = FirstLikelyFinish(total);
        if (elapsed < first - _options.MinCheckInterval.TotalSeconds)
        {
            // Hardly any job ends before this: nothing to look for until then (a job checked at
            // about this time, as the first check is, goes on to the steady interval).
            return Clamp(Seconds(first - elapsed));
        }

        // Where finishes are likely, the steady interval: each check there is as likely to be the
        // one that sees the finish, and a wider one would lengthen the lag of many jobs (the lag's
        // p95 is set here). Past the last likely finish, the few jobs left are looked at less and
        // less often, as 1 / √hazard (the spacing that balances a call against the lag it saves).
        var last = Math.Exp(total.Mean - (total.Spread * NormalDistribution.Quantile(_options.FirstCheckShare)));
        if (elapsed <= last)
        {
            return Clamp(_options.NoEtaCheckInterval);
        }

        var here = Math.Max(Hazard(total, elapsed), 1e-12);
        return Clamp(_options.NoEtaCheckInterval * Math.Max(1, Math.Sqrt(Hazard(total, last) / here)));
    }

    private double FirstLikelyFinish(LogMoments total) =>
        Math.Exp(total.Mean + (total.Spread * NormalDistribution.Quantile(_options.FirstCheckShare)));

    /// <summary>The chance per second that a job still running at <paramref name="seconds"/> finishes then.</summary>
    private static double Hazard(LogMoments total, double seconds)
    {
        var z = (Math.Log(seconds) - total.Mean) / total.Spread;
        var density = NormalDistribution.Density(z) / (total.Spread * seconds);
        // Cdf(-z) keeps its relative accuracy far into the tail, where 1 - Cdf(z) would not.
        return density / Math.Max(NormalDistribution.Cdf(-z), 1e-300);
    }

    private static TimeSpan Seconds(double seconds) => TimeSpan.FromSeconds(Math.Min(seconds, TimeSpan.FromDays(1).TotalSeconds));

    private TimeSpan Backoff(int step) =>
        Clamp(_options.MinCheckInterval * Math.Pow(_options.CheckBackoffFactor, Math.Min(step, 30)));

    private TimeSpan Clamp(TimeSpan delay) =>
        delay < _options.MinCheckInterval ? _options.MinCheckInterval
        : delay > _options.MaxCheckInterval ? _options.MaxCheckInterval
        : delay;
}
