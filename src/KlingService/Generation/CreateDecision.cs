using KlingService.Contracts;

namespace KlingService.Generation;

/// <summary>What a create attempt does next with the request it claimed (<see cref="CreateOutcome"/> decides it).</summary>
public abstract record CreateDecision
{
    private CreateDecision()
    {
    }

    /// <summary>
    /// Make the paid call. <paramref name="RepeatsUnknownOutcome"/>: an earlier holder's call may have created a task
    /// already, and Generation:RetryAmbiguousCreates allows repeating it.
    /// </summary>
    public sealed record Call(bool RepeatsUnknownOutcome) : CreateDecision;

    /// <summary>Record the created task under the claim, then announce it.</summary>
    public sealed record Record(string TaskId) : CreateDecision;

    /// <summary>
    /// Return the request to the backlog, due again after <paramref name="Delay"/>; <paramref name="CountsAsAttempt"/>
    /// says whether it counts towards Generation:CreateAttemptLimit.
    /// </summary>
    public sealed record Postpone(TimeSpan Delay, bool CountsAsAttempt, PostponeCause Cause) : CreateDecision;

    /// <summary>End the request with nothing created, its client answered with <paramref name="Reason"/> and <paramref name="Message"/>.</summary>
    public sealed record End(VideoFailureReason Reason, string Message) : CreateDecision;
}
