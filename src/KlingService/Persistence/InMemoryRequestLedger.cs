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

    public ValueTask<PendingCreate?> TakeNextAsync(int slotLimit, TimeSpan lease, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var busy = _entries.Values.Count(e => e.HoldsSlot(now));
            if (busy >= slotLimit)
            {
                return ValueTask.FromResult<PendingCreate?>(null);
            }

            var next = _entries.Values
                .Where(e => e.IsDue(now))
                .MinBy(e => e.Sequence);
            if (next is null)
            {
                return ValueTask.FromResult<PendingCreate?>(null);
            }

            next.LeaseUntil = now + lease;
            return ValueTask.FromResult<PendingCreate?>(new PendingCreate(next.Command!, next.FailedAttempts, next.TraceParent, next.AdmittedAt));
        }
    }

    public ValueTask RecordTaskAsync(Guid requestId, string taskId, CancellationToken cancellationToken) =>
        Update(requestId, entry =>
        {
            entry.TaskId = taskId;
            entry.Command = null; // the image may be megabytes; it is not needed again
        });

    public ValueTask PostponeAsync(Guid requestId, TimeSpan delay, bool failedAttempt, CancellationToken cancellationToken) =>
        Update(requestId, entry =>
        {
            entry.LeaseUntil = DateTimeOffset.MinValue;
            entry.NotBefore = time.GetUtcNow() + delay;
            entry.FailedAttempts += failedAttempt ? 1 : 0;
        });

    public ValueTask RecordEndedAsync(Guid requestId, CancellationToken cancellationToken) =>
        Update(requestId, entry =>
        {
            entry.Ended = true;
            entry.Command = null;
        });

    private ValueTask Update(Guid requestId, Action<Entry> change)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(requestId, out var entry))
            {
                entry = new Entry(null, null, time.GetUtcNow(), _sequence++);
                _entries[requestId] = entry;
            }

            change(entry);
        }

        signal.Pulse();
        return ValueTask.CompletedTask;
    }

    private sealed class Entry(GenerateVideo? command, string? traceParent, DateTimeOffset admittedAt, long sequence)
    {
        public GenerateVideo? Command { get; set; } = command;

        public string? TraceParent { get; } = traceParent;

        public DateTimeOffset AdmittedAt { get; } = admittedAt;

        public long Sequence { get; } = sequence;

        public string? TaskId { get; set; }

        public bool Ended { get; set; }

        public DateTimeOffset LeaseUntil { get; set; } = DateTimeOffset.MinValue;

        public DateTimeOffset NotBefore { get; set; } = DateTimeOffset.MinValue;

        public int FailedAttempts { get; set; }

        public bool HoldsSlot(DateTimeOffset now) => !Ended && (TaskId is not null || LeaseUntil > now);

        public bool IsDue(DateTimeOffset now) =>
            !Ended && TaskId is null && Command is not null && LeaseUntil <= now && NotBefore <= now;
    }
}
