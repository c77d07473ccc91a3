namespace KlingService.Contracts;

/// <summary>The provider reported a new status or progress for a job.</summary>
/// <param name="RequestId">The command's RequestId.</param>
/// <param name="TaskId">The Kling task.</param>
/// <param name="Status">The provider's status, e.g. <c>TASK_STATUS_PROCESSING</c>.</param>
/// <param name="ProgressPercent">0 to 100, when the provider reports it.</param>
/// <param name="EtaSeconds">The provider's estimate of the time left, when it gives one.</param>
public sealed record VideoGenerationProgressed(
    Guid RequestId,
    string TaskId,
    string Status,
    int? ProgressPercent,
    int? EtaSeconds);
