namespace KlingService.Cli;

/// <summary>
/// One job as <c>watch</c> knows it from the events it saw. <see cref="State"/> is Generating,
/// Succeeded, Failed (with the reason) or Cancelled; <see cref="Since"/> is the task's creation when
/// the job was seen submitted, else when its first event arrived.
/// </summary>
public sealed record JobRow(
    Guid RequestId,
    string? TaskId,
    string State,
    string? ProviderStatus,
    int? ProgressPercent,
    int? EtaSeconds,
    DateTimeOffset Since,
    DateTimeOffset? EndedAt)
{
    public bool Ended => EndedAt is not null;

    /// <summary>How long the job has run, or ran until it ended.</summary>
    public TimeSpan Age(DateTimeOffset now) => (EndedAt ?? now) - Since;
}
