namespace KlingService.Persistence;

/// <summary>What the ledger's rules read of one request, as both stores keep it (see <see cref="LedgerRules"/>).</summary>
/// <param name="HasTask">Its task was created (<c>task_id</c>).</param>
/// <param name="HasClaim">A claim is open: a create attempt holds its token (<c>claim_token</c>).</param>
/// <param name="HasCommand">Its command is kept for a create (<c>command</c>); a request recorded without one never is.</param>
/// <param name="Ended">Its job ended (<c>ended_at</c>).</param>
/// <param name="TaskFinished">The provider finished its task; the video is being stored (<c>task_finished_at</c>).</param>
/// <param name="Cancelled">Its client cancelled it (<c>cancelled_at</c>).</param>
/// <param name="NotBefore">Not claimed before this moment: a postponed attempt waits it out (<c>not_before</c>).</param>
/// <param name="StartBy">Not claimed from this moment on (<c>start_by</c>).</param>
/// <param name="LeaseUntil">How long its open claim is trusted; lapsed long enough, the claim counts as abandoned (<c>lease_until</c>).</param>
public readonly record struct RequestFacts(
    bool HasTask,
    bool HasClaim,
    bool HasCommand,
    bool Ended,
    bool TaskFinished,
    bool Cancelled,
    DateTimeOffset NotBefore,
    DateTimeOffset? StartBy,
    DateTimeOffset LeaseUntil);
