namespace KlingService.Generation;

/// <summary>What the ledger keeps of one request, for the status query.</summary>
/// <param name="RequestId">The request.</param>
/// <param name="TaskId">Its task, once created.</param>
/// <param name="CreateUnderWay">A create call may be running for it (an open claim).</param>
/// <param name="AdmittedAt">When the command was accepted.</param>
/// <param name="SubmittedAt">When its task was created.</param>
/// <param name="EndedAt">When its job ended.</param>
/// <param name="CancelledAt">When the client cancelled it.</param>
/// <param name="ProviderStatus">The provider's last reported status.</param>
/// <param name="ProgressPercent">The provider's last reported progress.</param>
/// <param name="EtaSeconds">The provider's last estimate of the time left.</param>
/// <param name="QueuePosition">While waiting: how many waiting requests are ahead of it, plus one.</param>
/// <param name="Outcome">The terminal event the client was answered with.</param>
/// <param name="StartBy">When a request still waiting for a slot gives up (its own StartBy, or the service's longest wait).</param>
public sealed record JobRecord(
    Guid RequestId,
    string? TaskId,
    bool CreateUnderWay,
    DateTimeOffset AdmittedAt,
    DateTimeOffset? SubmittedAt,
    DateTimeOffset? EndedAt,
    DateTimeOffset? CancelledAt,
    string? ProviderStatus,
    int? ProgressPercent,
    int? EtaSeconds,
    int? QueuePosition,
    JobOutcome? Outcome,
    DateTimeOffset? StartBy = null);
