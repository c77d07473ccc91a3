using Microsoft.Extensions.Options;

namespace KlingService.Generation;

/// <summary>
/// When to look at a task next. Aimed just past the provider's eta when it gives one (one call at
/// about the right moment beats many early ones); otherwise, and after failed checks, backing off
/// geometrically between the configured floor and cap.
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

        return job.EtaSeconds is > 0 and var eta
            ? Clamp(TimeSpan.FromSeconds(eta) + _options.EtaSlack)
            : Backoff(job.ChecksMade);
    }

    private TimeSpan Backoff(int step) =>
        Clamp(_options.MinCheckInterval * Math.Pow(_options.CheckBackoffFactor, Math.Min(step, 30)));

    private TimeSpan Clamp(TimeSpan delay) =>
        delay < _options.MinCheckInterval ? _options.MinCheckInterval
        : delay > _options.MaxCheckInterval ? _options.MaxCheckInterval
        : delay;
}
