namespace KlingService.Simulator;

public static class TaskStatuses
{
    public const string Queued = "TASK_STATUS_QUEUED";
    public const string Processing = "TASK_STATUS_PROCESSING";
    public const string Succeed = "TASK_STATUS_SUCCEED";
    public const string Failed = "TASK_STATUS_FAILED";
}
