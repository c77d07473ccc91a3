namespace KlingService.Contracts;

/// <summary>
/// The video is generated. The provider's URL stops working at <see cref="VideoUrlExpiresAt"/>; when the service
/// keeps videos, <see cref="StoredVideoUrl"/> is its own copy, which outlives it. The stored members are null when
/// the service does not store videos, or could not store this one (the provider's URL is then the only copy).
/// </summary>
/// <param name="RequestId">The command's RequestId.</param>
/// <param name="TaskId">The Kling task that made the video.</param>
/// <param name="VideoUrl">The provider's URL of the video.</param>
/// <param name="VideoUrlExpiresAt">When <paramref name="VideoUrl"/> stops working, when the provider says.</param>
/// <param name="VideoType">The file type, e.g. <c>mp4</c>.</param>
/// <param name="TimeTaken">From the task's creation to the service seeing it succeed.</param>
/// <param name="StoredVideoUrl">The service's copy of the video: a presigned or public URL of the artifact store, or a <c>file://</c> URI on the file-system store.</param>
/// <param name="StorageKey">The copy's key in the artifact store (the file name on the file-system store).</param>
/// <param name="SizeBytes">The stored copy's size in bytes.</param>
/// <param name="Sha256">The stored copy's SHA-256, lowercase hex.</param>
public sealed record VideoReady(
    Guid RequestId,
    string TaskId,
    string VideoUrl,
    DateTimeOffset? VideoUrlExpiresAt,
    string VideoType,
    TimeSpan TimeTaken,
    string? StoredVideoUrl = null,
    string? StorageKey = null,
    long? SizeBytes = null,
    string? Sha256 = null);
