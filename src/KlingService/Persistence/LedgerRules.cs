namespace KlingService.Persistence;

/// <summary>
/// Which request holds one of the account's slots, which waits in the backlog, and which may be claimed next: each rule once
/// as a predicate over <see cref="RequestFacts"/> (the in-memory ledger) and once as SQL over a ledger row (PostgreSQL), side
/// by side so they change together. A test runs both over every combination of facts.
/// </summary>
/// <remarks>
/// A claim is open exactly while the request holds a claim token: the lease only dates it. A claim whose lease lapsed
/// still holds its slot (its create call may still be running), and is taken again, as abandoned, once it lapsed longer
/// than the grace. A lease without a token means nothing: versions before tokens claimed with a lease alone, and the
/// schema upgrade gives such a claim a token (<see cref="PostgresSchema"/>).
/// The SQL reads the ledger's columns unqualified, so it applies to the innermost row in scope.
/// </remarks>
public static class LedgerRules
{
    /// <summary>Not created and not ended, its command kept: in the backlog, or being created.</summary>
    public const string UncreatedSql = "task_id IS NULL AND ended_at IS NULL AND command IS NOT NULL";

    /// <summary>In the backlog: no claim open and not cancelled. Queue positions count these; the sweeps end these.</summary>
    public const string QueuedSql = $"{UncreatedSql} AND claim_token IS NULL AND cancelled_at IS NULL";

    /// <summary>Claimed when a slot is free: queued, due, and not past its start-by moment.</summary>
    public const string DueSql = $"{QueuedSql} AND not_before <= statement_timestamp() AND (start_by IS NULL OR start_by > statement_timestamp())";

    /// <summary>Claimed again whatever the slot count (it holds its slot): its claim lapsed more than <c>@abandoned_after</c> ago.</summary>
    public const string AbandonedSql = $"{UncreatedSql} AND claim_token IS NOT NULL AND lease_until <= statement_timestamp() - @abandoned_after";

    /// <summary>Holds a slot: its task generates (until the provider finished it, or the job ended), or a claim is open.</summary>
    public const string HoldsSlotSql = "ended_at IS NULL AND task_finished_at IS NULL AND (task_id IS NOT NULL OR claim_token IS NOT NULL)";

    /// <inheritdoc cref="UncreatedSql"/>
    public static bool IsUncreated(RequestFacts request) => !request.HasTask && !request.Ended && request.HasCommand;

    /// <inheritdoc cref="QueuedSql"/>
    public static bool IsQueued(RequestFacts request) => IsUncreated(request) && !request.HasClaim && !request.Cancelled;

    /// <inheritdoc cref="DueSql"/>
    public static bool IsDue(RequestFacts request, DateTimeOffset now) =>
        IsQueued(request) && request.NotBefore <= now && !(request.StartBy <= now);

    /// <summary>Claimed again whatever the slot count (it holds its slot): its claim lapsed more than <paramref name="abandonedAfter"/> ago.</summary>
    public static bool IsAbandoned(RequestFacts request, DateTimeOffset now, TimeSpan abandonedAfter) =>
        IsUncreated(request) && request.HasClaim && request.LeaseUntil <= now - abandonedAfter;

    /// <inheritdoc cref="HoldsSlotSql"/>
    public static bool HoldsSlot(RequestFacts request) => !request.Ended && !request.TaskFinished && (request.HasTask || request.HasClaim);
}
