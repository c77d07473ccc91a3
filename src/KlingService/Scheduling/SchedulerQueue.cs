namespace KlingService.Scheduling;

public static class SchedulerQueue
{
    /// <summary>The queue the durable scheduler reads ScheduleMessage and CancelScheduledMessage from.</summary>
    public const string Name = "kling-scheduler";

    public static readonly Uri Address = new($"queue:{Name}");
}
