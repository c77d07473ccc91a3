namespace KlingService.Generation;

/// <summary>The timing model's troubles. It only advises the check schedule, so none of them stops a job.</summary>
internal static partial class TimingLog
{
    [LoggerMessage(101, LogLevel.Warning, "Reading the job timing model failed; checks are planned from what was known before: {Message}")]
    public static partial void ReadFailed(ILogger logger, string message);

    [LoggerMessage(102, LogLevel.Warning, "Recording task {TaskId} in the job timing model failed; the model misses this one job: {Message}")]
    public static partial void RecordFailed(ILogger logger, string taskId, string message);
}
