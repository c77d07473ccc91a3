namespace KlingService.Simulator;

public static class TaskStatuses
{
    public const string Queued = "TASK_STATUS_QUEUED";
    public const string Processing = "TASK_STATUS_PROCESSING";
    public const string Succeed = "TASK_STATUS_SUCCEED";
    public const string Failed = "TASK_STATUS_FAILED";

    /// <summary>Reported by some members of the API family when the provider cancels a task itself.</summary>
    public const string Canceled = "TASK_STATUS_CANCELED";
}
