namespace KlingService.Contracts;

/// <summary>The video is generated. The URL stops working at <see cref="VideoUrlExpiresAt"/>.</summary>
/// <param name="RequestId">The command's RequestId.</param>
/// <param name="TaskId">The Kling task that made the video.</param>
/// <param name="VideoUrl">The provider's URL of the video.</param>
/// <param name="VideoUrlExpiresAt">When <paramref name="VideoUrl"/> stops working, when the provider says.</param>
/// <param name="VideoType">The file type, e.g. <c>mp4</c>.</param>
/// <param name="TimeTaken">From the task's creation to the service seeing it succeed.</param>
public sealed record VideoReady(
    Guid RequestId,
    string TaskId,
    string VideoUrl,
    DateTimeOffset? VideoUrlExpiresAt,
    string VideoType,
    TimeSpan TimeTaken);
