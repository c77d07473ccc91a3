namespace KlingService.Storage;

/// <summary>What a failed copy means: why, and whether trying again can help.</summary>
public static class StoreFailures
{
    /// <summary>
    /// Recognised failures carry their reason; a try that ran past its own bound is <see cref="StoreFailureReason.TimedOut"/>;
    /// an HTTP failure before any body is <see cref="StoreFailureReason.DownloadFailed"/>; anything else came from the
    /// artifact store (the source stream wraps its own failures, so they never reach here unrecognised).
    /// </summary>
    public static StoreFailureReason Classify(Exception exception) => exception switch
    {
        VideoStoreException known => known.Reason,
        OperationCanceledException or TimeoutException => StoreFailureReason.TimedOut,
        HttpRequestException => StoreFailureReason.DownloadFailed,
        _ => StoreFailureReason.StoreFailed,
    };

    /// <summary>
    /// An expired URL cannot come back and a video too large stays too large; everything else (a CDN's error page
    /// served with 200 included) may be gone on the next try.
    /// </summary>
    public static bool IsRetryable(StoreFailureReason reason) =>
        reason is not (StoreFailureReason.UrlExpired or StoreFailureReason.TooLarge);
}
