using KlingService.Contracts;
using KlingService.Generation;

namespace KlingService.Persistence;

/// <summary>The embedded-mode ledger: exact within one process, forgotten on restart.</summary>
public sealed class InMemoryRequestLedger(TimeProvider time, LauncherSignal signal) : IRequestLedger
{
    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, Entry> _entries = [];
    private long _sequence;

    public ValueTask<Admission> AdmitAsync(GenerateVideo command, string? traceParent, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(command.RequestId, out var known))
            {
                return ValueTask.FromResult(
                    known.Ended ? Admission.Ended : known.TaskId is { } taskId ? Admission.Submitted(taskId) : Admission.Waiting);
            }

            var now = time.GetUtcNow();
            _entries[command.RequestId] = new Entry(command, traceParent, now, _sequence++);
        }

        signal.Pulse();
        return ValueTask.FromResult(Admission.Admitted);
    }

    public ValueTask<bool> RecordRejectedAsync(Guid requestId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_entries.TryAdd(requestId, new Entry(null, null, time.GetUtcNow(), _sequence++) { Ended = true }));
        }
    }

    public ValueTask<PendingCreate?> TakeNextAsync(int slotLimit, TimeSpan lease, TimeSpan abandonedAfter, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var slotFree = _entries.Values.Count(e => e.HoldsSlot) < slotLimit;
            var next = _entries.Values
                .Where(e => e.IsWaiting && e.Command is not null && e.NotBefore <= now
                    && (e.Claim is null ? slotFree : e.LeaseUntil <= now - abandonedAfter))
                .MinBy(e => e.Sequence);
            if (next is null)
            {
                return ValueTask.FromResult<PendingCreate?>(null);
            }

            var abandoned = next.Claim is not null;
            next.Claim = Guid.NewGuid();
            next.LeaseUntil = now + lease;
            return ValueTask.FromResult<PendingCreate?>(
                new PendingCreate(next.Command!, next.FailedAttempts, next.TraceParent, next.AdmittedAt, next.Claim.Value, abandoned));
        }
    }

    public ValueTask<bool> RenewAsync(Guid requestId, Guid claim, TimeSpan lease, CancellationToken cancellationToken) =>
        Change(requestId, entry => entry.IsWaiting && entry.Claim == claim, entry => entry.LeaseUntil = time.GetUtcNow() + lease);

    public ValueTask<(TaskRecording Outcome, string? ExistingTaskId)> RecordTaskAsync(
        Guid requestId, Guid claim, string taskId, CancellationToken cancellationToken)
    {
        (TaskRecording, string?) outcome;
        lock (_gate)
        {
            if (!_entries.TryGetValue(requestId, out var entry))
            {
                outcome = (TaskRecording.AfterEnd, null);
            }
            else if (entry.IsWaiting)
            {
                outcome = (entry.Claim == claim ? TaskRecording.Recorded : TaskRecording.RecordedAfterClaimLost, null);
                entry.TaskId = taskId;
                entry.Claim = null;
                entry.Command = null; // the image may be megabytes; it is not needed again
            }
            else
            {
                outcome = entry.TaskId == taskId ? (TaskRecording.Recorded, null)
                    : entry.TaskId is not null ? (TaskRecording.Duplicate, entry.TaskId)
                    : (TaskRecording.AfterEnd, null);
            }
        }

        signal.Pulse();
        return ValueTask.FromResult(outcome);
    }

    public ValueTask<bool> PostponeAsync(Guid requestId, Guid claim, TimeSpan delay, bool failedAttempt, CancellationToken cancellationToken) =>
        Change(requestId, entry => entry.IsWaiting && entry.Claim == claim, entry =>
        {
            entry.Claim = null;
            entry.NotBefore = time.GetUtcNow() + delay;
            entry.FailedAttempts += failedAttempt ? 1 : 0;
        });

    public ValueTask<bool> EndWithoutTaskAsync(Guid requestId, Guid? claim, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _entries.TryAdd(requestId, new Entry(null, null, time.GetUtcNow(), _sequence++));
        }

        return Change(requestId, entry => entry.IsWaiting && entry.Claim == claim, End);
    }

    public ValueTask<IReadOnlyList<Guid>> EndAllWaitingAsync(DateTimeOffset admittedBefore, CancellationToken cancellationToken)
    {
        List<Guid> ended;
        lock (_gate)
        {
            ended = [.. _entries
                .Where(e => e.Value.IsWaiting && e.Value.Claim is null && e.Value.Command is not null && e.Value.AdmittedAt < admittedBefore)
                .Select(e => e.Key)];
            foreach (var requestId in ended)
            {
                End(_entries[requestId]);
            }
        }

        signal.Pulse();
        return ValueTask.FromResult<IReadOnlyList<Guid>>(ended);
    }

    public ValueTask RecordEndedAsync(Guid requestId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(requestId, out var entry))
            {
                entry = new Entry(null, null, time.GetUtcNow(), _sequence++);
                _entries[requestId] = entry;
            }

            End(entry);
        }

        signal.Pulse();
        return ValueTask.CompletedTask;
    }

    public ValueTask<LedgerEntry?> FindAsync(Guid requestId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_entries.TryGetValue(requestId, out var entry) ? new LedgerEntry(entry.TaskId, entry.Ended) : null);
        }
    }

    private static void End(Entry entry)
    {
        entry.Ended = true;
        entry.Claim = null;
        entry.Command = null;
    }

    private ValueTask<bool> Change(Guid requestId, Func<Entry, bool> guard, Action<Entry> change)
    {
        bool changed;
        lock (_gate)
        {
            changed = _entries.TryGetValue(requestId, out var entry) && guard(entry);
            if (changed)
            {
                change(entry!);
            }
        }

        signal.Pulse();
        return ValueTask.FromResult(changed);
    }

    private sealed class Entry(GenerateVideo? command, string? traceParent, DateTimeOffset admittedAt, long sequence)
    {
        public GenerateVideo? Command { get; set; } = command;

        public string? TraceParent { get; } = traceParent;

        public DateTimeOffset AdmittedAt { get; } = admittedAt;

        public long Sequence { get; } = sequence;

        public string? TaskId { get; set; }

        public bool Ended { get; set; }

        public Guid? Claim { get; set; }

        public DateTimeOffset LeaseUntil { get; set; } = DateTimeOffset.MinValue;

        public DateTimeOffset NotBefore { get; set; } = DateTimeOffset.MinValue;

        public int FailedAttempts { get; set; }

        /// <summary>No task yet and not ended: in the backlog, or being created.</summary>
        public bool IsWaiting => !Ended && TaskId is null;

        /// <summary>A task generates, or a claim is open (a create call may be under way).</summary>
        public bool HoldsSlot => !Ended && (TaskId is not null || Claim is not null);
    }
}
