namespace KlingService.Storage;

/// <summary>
/// The copy's outcome, back to the saga: either the stored video, or why there is none (the job is delivered with
/// the provider's URL either way).
/// </summary>
public sealed record VideoStored(Guid CorrelationId, string TaskId, StoredVideo? Video, StoreFailureReason? FailureReason);
