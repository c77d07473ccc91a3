namespace KlingService.Generation;

/// <summary>
/// Sent by the stalled-job sweeper to a job whose scheduled check or deadline is missing from the
/// scheduler: arm both again. Unlike a repeated Submitted, it comes from someone who has looked.
/// </summary>
/// <param name="CorrelationId">The job (saga) to re-arm.</param>
/// <param name="TaskId">Its Kling task.</param>
/// <param name="CheckMissing">The job has no scheduled status check.</param>
/// <param name="DeadlineMissing">The job has no scheduled deadline.</param>
public sealed record RearmVideoJob(Guid CorrelationId, string TaskId, bool CheckMissing, bool DeadlineMissing);
