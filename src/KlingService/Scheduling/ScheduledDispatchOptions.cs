namespace KlingService.Scheduling;

/// <summary>
/// How a scheduled message that cannot be sent is retried (<c>Scheduling:Dispatch</c>): after each
/// failure it waits <see cref="FirstRetryDelay"/>, doubling up to <see cref="MaxRetryDelay"/>, and
/// after <see cref="MaxAttempts"/> failures that were its own fault it is set aside.
/// </summary>
public sealed class ScheduledDispatchOptions
{
    public const string SectionName = "Scheduling:Dispatch";

    public int MaxAttempts { get; set; } = 10;

    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    public static ScheduledDispatchOptions From(IConfiguration? configuration)
    {
        var options = configuration?.GetSection(SectionName).Get<ScheduledDispatchOptions>() ?? new ScheduledDispatchOptions();
        if (options.MaxAttempts < 1 || options.FirstRetryDelay <= TimeSpan.Zero || options.MaxRetryDelay < options.FirstRetryDelay)
        {
            throw new InvalidOperationException(
                $"{SectionName} needs MaxAttempts >= 1 and 0 < FirstRetryDelay <= MaxRetryDelay.");
        }

        return options;
    }

    /// <summary>The wait after the <paramref name="attempts"/>-th failure: 1 s, 2 s, 4 s … capped.</summary>
    public TimeSpan RetryDelay(int attempts)
    {
        var factor = Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        var delay = FirstRetryDelay.TotalMilliseconds * factor;
        return delay >= MaxRetryDelay.TotalMilliseconds ? MaxRetryDelay : TimeSpan.FromMilliseconds(delay);
    }
}
