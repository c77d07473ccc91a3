using KlingService.Contracts;
using KlingService.Generation;

namespace KlingService.Persistence;

/// <summary>One request in the <see cref="InMemoryRequestLedger"/>: the columns of PostgreSQL's row, kept under the ledger's lock.</summary>
internal sealed class InMemoryLedgerEntry(GenerateVideo? command, string? traceParent, DateTimeOffset admittedAt, long sequence, DateTimeOffset? startBy = null)
{
    public GenerateVideo? Command { get; set; } = command;

    public string? TraceParent { get; } = traceParent;

    public DateTimeOffset AdmittedAt { get; } = admittedAt;

    public long Sequence { get; } = sequence;

    public string? TaskId { get; set; }

    public bool Ended { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    public DateTimeOffset? SubmittedAt { get; set; }

    public DateTimeOffset? CancelledAt { get; set; }

    public string? ProviderStatus { get; set; }

    public int? ProgressPercent { get; set; }

    public int? EtaSeconds { get; set; }

    public JobOutcome? Outcome { get; set; }

    public Guid? Claim { get; set; }

    public DateTimeOffset LeaseUntil { get; set; } = DateTimeOffset.MinValue;

    public DateTimeOffset NotBefore { get; set; } = DateTimeOffset.MinValue;

    public int FailedAttempts { get; set; }

    /// <summary>Not claimed from this moment on: the request ends as StartByPassed instead.</summary>
    public DateTimeOffset? StartBy { get; } = startBy;

    /// <summary>The provider is done with the task; its video is being stored.</summary>
    public bool TaskFinished { get; set; }

    /// <summary>No task yet and not ended: in the backlog, or being created.</summary>
    public bool IsWaiting => !Ended && TaskId is null;

    /// <summary>What <see cref="LedgerRules"/> read of it.</summary>
    public RequestFacts Facts => new(
        TaskId is not null, Claim is not null, Command is not null, Ended, TaskFinished, CancelledAt is not null, NotBefore, StartBy, LeaseUntil);
}
