using KlingService.Contracts;

namespace KlingService.Generation;

/// <summary>The job's story, one structured line per transition. Never given the key or image data.</summary>
internal static partial class GenerationLog
{
    [LoggerMessage(1, LogLevel.Information, "Request {RequestId} rejected before spending: {Problem}")]
    public static partial void RequestInvalid(ILogger logger, Guid requestId, string problem);

    [LoggerMessage(2, LogLevel.Information, "Request {RequestId} submitted as Kling task {TaskId} ({Mode}, {DurationSeconds}s)")]
    public static partial void TaskCreated(ILogger logger, Guid requestId, string taskId, VideoMode mode, int durationSeconds);

    [LoggerMessage(3, LogLevel.Information, "Request {RequestId} is a repeat ({Status}); no new task created")]
    public static partial void DuplicateRequest(ILogger logger, Guid requestId, AdmissionStatus status);

    [LoggerMessage(4, LogLevel.Warning, "Request {RequestId} refused by Kling ({Reason}): {Message}")]
    public static partial void ProviderRefused(ILogger logger, Guid requestId, VideoFailureReason reason, string message);

    [LoggerMessage(5, LogLevel.Warning, "Creating the task for request {RequestId} failed transiently (attempt {Attempt}); retrying in {RetryIn}: {Message}")]
    public static partial void CreateFailedTransiently(ILogger logger, Guid requestId, int attempt, TimeSpan retryIn, string message);

    [LoggerMessage(6, LogLevel.Information, "Task {TaskId} of request {RequestId} is {Status} ({ProgressPercent}%, eta {EtaSeconds}s)")]
    public static partial void TaskProgressed(ILogger logger, string taskId, Guid requestId, string status, int? progressPercent, int? etaSeconds);

    [LoggerMessage(7, LogLevel.Warning, "Status check of task {TaskId} failed; polling goes on: {Message}")]
    public static partial void StatusCheckFailed(ILogger logger, string taskId, string message);

    [LoggerMessage(8, LogLevel.Warning, "Task {TaskId} reported unknown status {Status}; polling goes on")]
    public static partial void UnknownStatus(ILogger logger, string taskId, string status);

    [LoggerMessage(9, LogLevel.Information, "Task {TaskId} of request {RequestId} is ready after {TimeTaken}")]
    public static partial void TaskSucceeded(ILogger logger, string taskId, Guid requestId, TimeSpan timeTaken);

    [LoggerMessage(10, LogLevel.Information, "Task {TaskId} of request {RequestId} ended without a video ({Reason}): {Message}")]
    public static partial void TaskFailed(ILogger logger, string? taskId, Guid requestId, VideoFailureReason reason, string message);

    [LoggerMessage(11, LogLevel.Error, "Request {RequestId} gave up after the provider stayed unavailable: {Message}")]
    public static partial void GaveUp(ILogger logger, Guid requestId, string message);

    [LoggerMessage(12, LogLevel.Information, "Request {RequestId} accepted; waiting for a generation slot")]
    public static partial void RequestAdmitted(ILogger logger, Guid requestId);

    [LoggerMessage(13, LogLevel.Information, "Kling is busy (429) for request {RequestId}; it waits {RetryIn} and keeps its place")]
    public static partial void ProviderBusy(ILogger logger, Guid requestId, TimeSpan retryIn);

    [LoggerMessage(14, LogLevel.Warning, "Looking for jobs to start failed; trying again shortly: {Message}")]
    public static partial void LaunchFailed(ILogger logger, string message);

    [LoggerMessage(15, LogLevel.Warning, "Announcing task {TaskId} of request {RequestId} failed; trying again: {Message}")]
    public static partial void AnnounceFailed(ILogger logger, string taskId, Guid requestId, string message);
}
