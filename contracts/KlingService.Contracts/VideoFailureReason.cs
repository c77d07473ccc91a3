namespace KlingService.Contracts;

/// <summary>Stable failure codes; travel on the wire by name. New codes may be added.</summary>
public enum VideoFailureReason
{
    /// <summary>The command broke a validation rule; nothing was spent.</summary>
    InvalidRequest,

    /// <summary>The API key was refused (401/403).</summary>
    Unauthorized,

    /// <summary>The provider refused the request as invalid (400).</summary>
    ProviderRejected,

    /// <summary>The provider ran the task and reported it failed.</summary>
    GenerationFailed,

    /// <summary>The job did not finish before the configured deadline.</summary>
    TimedOut,

    /// <summary>The provider stayed unavailable (429, 5xx, timeouts) past the retry limit.</summary>
    ProviderUnavailable,

    /// <summary>The service itself failed to handle the request; the message is in its error queue.</summary>
    InternalError,

    /// <summary>
    /// The create call was sent and its outcome is unknown (a timeout, a reset connection, a 502/504,
    /// an unreadable answer, or the service stopped mid-call): a task may have been created and
    /// charged, and the service did not repeat the call so as not to pay twice. Check the provider's
    /// console before sending the request again under a new RequestId.
    /// </summary>
    CreateOutcomeUnknown,

    /// <summary>The client cancelled the request (<see cref="CancelVideoGeneration"/>); money was spent only if its task had been created.</summary>
    Cancelled,

    /// <summary>
    /// The request was still waiting for a slot at its <see cref="GenerateVideo.StartBy"/> (or after the service's
    /// longest wait), or arrived after it: nothing was created or charged.
    /// </summary>
    StartByPassed,
}
