namespace KlingService.Contracts;

/// <summary>Kling accepted the request and created a task; the job is now tracked until it ends.</summary>
/// <param name="RequestId">The command's RequestId.</param>
/// <param name="TaskId">The Kling task created for it.</param>
/// <param name="SubmittedAt">When the task was created.</param>
/// <param name="Mode">The command's mode.</param>
/// <param name="DurationSeconds">The command's duration.</param>
public sealed record VideoGenerationSubmitted(
    Guid RequestId,
    string TaskId,
    DateTimeOffset SubmittedAt,
    VideoMode Mode,
    int DurationSeconds);
