namespace KlingService.Generation;

/// <summary>What a failed create call proves, which decides what may be done next.</summary>
public enum CreateFailureKind
{
    /// <summary>The account is full (429): nothing was created; ask again after Retry-After, and it never counts as a failure.</summary>
    Busy,

    /// <summary>The error proves nothing was created (no connection, 503, the API's own refusal): trying again is safe.</summary>
    NothingCreated,

    /// <summary>The provider refused the request's content (400, 413, 422): trying again cannot help.</summary>
    Rejected,

    /// <summary>The key was refused (401, 403): nothing was created, and no other request will fare better until the key works.</summary>
    Unauthorized,

    /// <summary>The request was sent and its outcome is unknown: a task may have been created and charged.</summary>
    Ambiguous,
}
