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

    [LoggerMessage(16, LogLevel.Warning, "The create call for request {RequestId} was sent and its outcome is unknown; a task may have been created and charged ({Action}): {Message}")]
    public static partial void CreateOutcomeUnknown(ILogger logger, Guid requestId, string action, string message);

    [LoggerMessage(17, LogLevel.Warning, "Recording task {TaskId} of request {RequestId} failed (attempt {Attempt}); the request is held and recording goes on: {Message}")]
    public static partial void RecordTaskFailed(ILogger logger, string taskId, Guid requestId, int attempt, string message);

    [LoggerMessage(18, LogLevel.Error, "Duplicate charge: request {RequestId} already had task {ExistingTaskId} when task {TaskId} was created for it")]
    public static partial void DuplicateCharge(ILogger logger, Guid requestId, string taskId, string existingTaskId);

    [LoggerMessage(19, LogLevel.Error, "Task {TaskId} was created for request {RequestId} after the request had ended; it is paid for and not delivered")]
    public static partial void TaskAfterEnd(ILogger logger, string taskId, Guid requestId);

    [LoggerMessage(20, LogLevel.Error, "Kling refused the API key ({Message}); launching pauses for {Pause} and then probes again. Request {RequestId} keeps its place")]
    public static partial void KeyRefused(ILogger logger, Guid requestId, TimeSpan pause, string message);

    [LoggerMessage(21, LogLevel.Information, "Kling accepts the API key again; launching resumes")]
    public static partial void KeyAccepted(ILogger logger);

    [LoggerMessage(22, LogLevel.Warning, "The claim on request {RequestId} was lost while its create call ran; its outcome is still recorded")]
    public static partial void ClaimLost(ILogger logger, Guid requestId);

    [LoggerMessage(23, LogLevel.Warning, "An earlier create attempt for request {RequestId} was interrupted without an outcome ({Action})")]
    public static partial void ClaimAbandoned(ILogger logger, Guid requestId, string action);

    [LoggerMessage(24, LogLevel.Error, "Kling has refused the API key for longer than {Grace}; {Count} waiting requests end as Unauthorized")]
    public static partial void WaitingFailedUnauthorized(ILogger logger, int count, TimeSpan grace);

    [LoggerMessage(25, LogLevel.Warning, "A VideoGenerationSubmitted for task {TaskId} of request {RequestId} was ignored: the request has ended, or its record names no such task")]
    public static partial void LateSubmittedIgnored(ILogger logger, string taskId, Guid requestId);

    [LoggerMessage(26, LogLevel.Warning, "A failed command for request {RequestId} is left unanswered: the request has a task, a create call under way, or has ended, and answers for itself")]
    public static partial void FaultNotAnswered(ILogger logger, Guid requestId);

    [LoggerMessage(27, LogLevel.Information, "Request {RequestId} had ended; its {EventType} is published again")]
    public static partial void Replayed(ILogger logger, Guid requestId, string eventType);

    [LoggerMessage(28, LogLevel.Information, "Request {RequestId} cancelled by its client ({Effect})")]
    public static partial void Cancelled(ILogger logger, Guid requestId, CancelEffect effect);

    [LoggerMessage(29, LogLevel.Information, "{Count} job records past their retention period were deleted")]
    public static partial void RecordsDeleted(ILogger logger, int count);

    [LoggerMessage(30, LogLevel.Warning, "Deleting expired job records failed; trying again later: {Message}")]
    public static partial void RecordCleanupFailed(ILogger logger, string message);

    [LoggerMessage(31, LogLevel.Information, "Request {RequestId} was not ended as {Reason} here: its claim was lost (the new holder answers for it) or its client cancelled and has its answer")]
    public static partial void NotEndedHere(ILogger logger, Guid requestId, VideoFailureReason reason);

    [LoggerMessage(32, LogLevel.Information, "Request {RequestId} arrived after its StartBy ({StartBy:O}) and ended as StartByPassed; nothing was created")]
    public static partial void ArrivedAfterStartBy(ILogger logger, Guid requestId, DateTimeOffset startBy);

    [LoggerMessage(33, LogLevel.Warning, "{Count} request(s) waited for a slot past their StartBy and ended as StartByPassed; nothing was created")]
    public static partial void WaitedPastStartBy(ILogger logger, int count);
}
