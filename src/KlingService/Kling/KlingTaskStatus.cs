namespace KlingService.Kling;

public static class KlingTaskStatus
{
    public const string Queued = "TASK_STATUS_QUEUED";
    public const string Processing = "TASK_STATUS_PROCESSING";
    public const string Succeed = "TASK_STATUS_SUCCEED";
    public const string Failed = "TASK_STATUS_FAILED";
    public const string Canceled = "TASK_STATUS_CANCELED";
}
