namespace KlingService.Generation;

/// <summary>Why a request goes back to the backlog (<see cref="CreateDecision.Postpone"/>), which says what else the launcher learns.</summary>
public enum PostponeCause
{
    /// <summary>The account is full (429): launching waits as long as the provider asked.</summary>
    AccountBusy,

    /// <summary>The key was refused (401/403): launching pauses, then probes the key.</summary>
    KeyRefused,

    /// <summary>The call failed in a way that may pass; the attempt counts towards the limit.</summary>
    FailedTransiently,
}
