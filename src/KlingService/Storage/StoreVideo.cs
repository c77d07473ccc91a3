namespace KlingService.Storage;

/// <summary>
/// From the saga to <see cref="StoreVideoConsumer"/>: copy a finished task's video, outside the saga's transaction,
/// and answer with <see cref="VideoStored"/>. Tries stop at <paramref name="GiveUpAt"/> (the URL's expiry or the
/// job's store timeout, whichever comes first).
/// </summary>
public sealed record StoreVideo(Guid CorrelationId, Guid RequestId, string TaskId, string VideoUrl, DateTimeOffset? VideoUrlExpiresAt, DateTimeOffset GiveUpAt);
