namespace KlingService.Generation;

/// <summary>
/// Sent by the stalled-job sweeper to a job whose scheduled check or deadline is missing from the
/// scheduler: arm both again. Unlike a repeated Submitted, it comes from someone who has looked.
/// </summary>
public sealed record RearmVideoJob(Guid CorrelationId, string TaskId);
