namespace KlingService.Storage;

/// <summary>A copy that failed for a reason the copier recognised.</summary>
public sealed class VideoStoreException(StoreFailureReason reason, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public StoreFailureReason Reason { get; } = reason;
}
