namespace KlingService.Contracts;

/// <summary>The job ended without a video.</summary>
/// <param name="RequestId">The command's RequestId.</param>
/// <param name="TaskId">The Kling task, or null when no task was created.</param>
/// <param name="Reason">A stable code to branch on.</param>
/// <param name="Message">Human-readable detail; not stable, do not parse.</param>
public sealed record VideoFailed(
    Guid RequestId,
    string? TaskId,
    VideoFailureReason Reason,
    string Message);
