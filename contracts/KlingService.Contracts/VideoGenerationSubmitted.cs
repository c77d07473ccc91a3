namespace KlingService.Contracts;

/// <summary>Kling accepted the request and created a task; the job is now tracked until it ends.</summary>
public sealed record VideoGenerationSubmitted(
    Guid RequestId,
    string TaskId,
    DateTimeOffset SubmittedAt,
    VideoMode Mode,
    int DurationSeconds);
