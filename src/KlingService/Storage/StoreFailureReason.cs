namespace KlingService.Storage;

/// <summary>Why a video was not stored; it is still delivered, with the provider's URL alone.</summary>
public enum StoreFailureReason
{
    /// <summary>The download failed (connection, 5xx, 429, 404, a timeout); tried again while the URL is valid.</summary>
    DownloadFailed,

    /// <summary>The body ended before its declared length; tried again.</summary>
    Truncated,

    /// <summary>The body is not an MP4 (no <c>ftyp</c> box first): a sign-in page or an error page served with 200.</summary>
    NotMp4,

    /// <summary>Larger than <c>Storage:MaxVideoBytes</c>.</summary>
    TooLarge,

    /// <summary>The provider's URL expired (403/410, or its expiry passed) before a copy succeeded.</summary>
    UrlExpired,

    /// <summary>The artifact store refused or could not be reached; tried again.</summary>
    StoreFailed,

    /// <summary>The tries ran out, or the job's <c>Storage:StoreTimeout</c> passed without an answer.</summary>
    TimedOut,
}
