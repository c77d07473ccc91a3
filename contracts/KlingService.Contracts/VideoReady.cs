namespace KlingService.Contracts;

/// <summary>The video is generated. The URL stops working at <see cref="VideoUrlExpiresAt"/>.</summary>
public sealed record VideoReady(
    Guid RequestId,
    string TaskId,
    string VideoUrl,
    DateTimeOffset? VideoUrlExpiresAt,
    string VideoType,
    TimeSpan TimeTaken);
