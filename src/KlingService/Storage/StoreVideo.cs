namespace KlingService.Storage;

/// <summary>
/// From the saga to <see cref="StoreVideoConsumer"/>: copy a finished task's video, outside the saga's transaction,
/// and answer with <see cref="VideoStored"/> carrying <paramref name="StoreToken"/> back. Tries stop at
/// <paramref name="GiveUpAt"/> (the URL's expiry or the job's store timeout, whichever comes first).
/// </summary>
/// <remarks>
/// Anyone on the bus can send this, so the consumer acts on no value in it but the job it names: the URL, its expiry
/// and the give-up time are read from that job's saga, which must be storing under <paramref name="StoreToken"/>.
/// The URL and times stay in the message for instances of earlier versions during a rollout.
/// </remarks>
public sealed record StoreVideo(
    Guid CorrelationId, Guid RequestId, string TaskId, string VideoUrl, DateTimeOffset? VideoUrlExpiresAt, DateTimeOffset GiveUpAt, Guid StoreToken);
