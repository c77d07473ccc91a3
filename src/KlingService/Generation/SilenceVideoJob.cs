namespace KlingService.Generation;

/// <summary>
/// Sent to a job whose client cancelled it after its task was created: the job keeps following the
/// task until the provider ends it (its slot stays counted) but tells no one anything more.
/// </summary>
/// <param name="CorrelationId">The job (saga).</param>
public sealed record SilenceVideoJob(Guid CorrelationId);
