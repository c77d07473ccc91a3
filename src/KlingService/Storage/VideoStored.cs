namespace KlingService.Storage;

/// <summary>
/// The copy's outcome, back to the saga: either the stored video, or why there is none (the job is delivered with
/// the provider's URL either way). <paramref name="StoreToken"/> is the one its <see cref="StoreVideo"/> carried: the
/// saga takes no other answer, so a message made up on the bus cannot end a job with a video of its choosing.
/// </summary>
public sealed record VideoStored(Guid CorrelationId, string TaskId, StoredVideo? Video, StoreFailureReason? FailureReason, Guid StoreToken);
