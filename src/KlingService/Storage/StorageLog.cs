namespace KlingService.Storage;

internal static partial class StorageLog
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Stored the video of task {TaskId} (request {RequestId}): {SizeBytes} bytes, sha256 {Sha256}, key {StorageKey}")]
    public static partial void VideoStored(ILogger logger, string taskId, Guid requestId, long sizeBytes, string sha256, string storageKey);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Copy {Attempt} of the video of task {TaskId} failed ({Reason}): {Detail}")]
    public static partial void AttemptFailed(ILogger logger, int attempt, string taskId, StoreFailureReason reason, string detail);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "The video of task {TaskId} (request {RequestId}) was not stored ({Reason}) after {Attempts} tries: VideoReady carries only the provider's URL, which expires at {ExpiresAt}")]
    public static partial void VideoNotStored(ILogger logger, string taskId, Guid requestId, StoreFailureReason reason, int attempts, DateTimeOffset? expiresAt);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "No answer from the copy of task {TaskId}'s video within Storage:StoreTimeout: VideoReady goes out with the provider's URL")]
    public static partial void StoreAnswerMissing(ILogger logger, string taskId);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information, Message = "Finished videos are stored by {Kind} at {Location}")]
    public static partial void StorageChosen(ILogger logger, StorageKind kind, string location);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Warning, Message = "Finished videos are not stored (Storage:Kind is None): clients get only the provider's URL, which expires")]
    public static partial void StorageOff(ILogger logger);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "Dropped a StoreVideo naming task {TaskId} (job {CorrelationId}): {Reason}, it is not the job's own request to store its video, so nothing was fetched")]
    public static partial void StoreVideoRejected(ILogger logger, string taskId, Guid correlationId, BusRejection reason);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Warning, Message = "Dropped a VideoStored naming task {TaskId} (job {CorrelationId}): {Reason}, it does not answer the job's own StoreVideo")]
    public static partial void VideoStoredRejected(ILogger logger, string taskId, Guid correlationId, BusRejection reason);
}
