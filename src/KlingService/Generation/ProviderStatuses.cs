using KlingService.Kling;

namespace KlingService.Generation;

/// <summary>
/// The provider's task statuses, read once. Statuses that end a task without a video (failed, or
/// cancelled on the provider's side) end the job; a status nobody has seen before is taken as
/// non-terminal (the API's advice) and logged, and the job's deadline still bounds it.
/// </summary>
public static class ProviderStatuses
{
    // Spelled both ways: members of the API family differ.
    private const string Cancelled = "TASK_STATUS_CANCELLED";

    public static CheckVerdict Verdict(string? status) => status switch
    {
        KlingTaskStatus.Succeed => CheckVerdict.Succeeded,
        KlingTaskStatus.Failed or KlingTaskStatus.Canceled or Cancelled => CheckVerdict.Failed,
        _ => CheckVerdict.Running,
    };

    public static bool IsKnown(string? status) =>
        status is KlingTaskStatus.Queued or KlingTaskStatus.Processing or KlingTaskStatus.Succeed or KlingTaskStatus.Failed
            or KlingTaskStatus.Canceled or Cancelled;
}
