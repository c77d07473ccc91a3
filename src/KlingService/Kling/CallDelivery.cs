namespace KlingService.Kling;

/// <summary>
/// How far a failed call got. For a create call this decides whether a task may exist: only a call
/// that never left (<see cref="NotSent"/>) or one the provider answered with a refusal proves that
/// nothing was created and charged.
/// </summary>
public enum CallDelivery
{
    /// <summary>No connection was made (refused, DNS, TLS, connect timeout): the provider never saw the request.</summary>
    NotSent,

    /// <summary>The provider (or something in front of it) answered with a status code and a body.</summary>
    Answered,

    /// <summary>The request was sent and no usable answer came back (timeout, reset, unreadable body).</summary>
    Unknown,
}
