using Microsoft.Extensions.Options;

namespace KlingService.Generation;

/// <summary>
/// When to look at a task next. A short eta is waited in full (plus a little slack), so the finish
/// is seen with one call. A long eta is only trusted in part: the provider's estimate may be late
/// by a third, and waiting it whole would then notice the finish long after it happened; looking
/// again at a share of it costs a call or two and keeps the lag to about a second. Without an eta,
/// a steady interval (there is nothing to aim at); after failed checks, geometric backoff, so a
/// provider in trouble is not hammered.
/// </summary>
public sealed class StatusCheckPolicy(IOptions<GenerationOptions> options)
{
    private readonly GenerationOptions _options = options.Value;

    public TimeSpan FirstCheck() => _options.FirstCheckAfter;

    public TimeSpan NextCheck(VideoJobState job)
    {
        if (job.ConsecutiveCheckFailures > 0)
        {
            return Backoff(job.ConsecutiveCheckFailures);
        }

        if (job.EtaSeconds is not > 0)
        {
            return Clamp(_options.NoEtaCheckInterval);
        }

        var eta = TimeSpan.FromSeconds(job.EtaSeconds.Value);
        return Clamp(eta <= _options.ShortEta ? eta + _options.EtaSlack : eta * _options.EtaTrust);
    }

    private TimeSpan Backoff(int step) =>
        Clamp(_options.MinCheckInterval * Math.Pow(_options.CheckBackoffFactor, Math.Min(step, 30)));

    private TimeSpan Clamp(TimeSpan delay) =>
        delay < _options.MinCheckInterval ? _options.MinCheckInterval
        : delay > _options.MaxCheckInterval ? _options.MaxCheckInterval
        : delay;
}
