using KlingService.Contracts;
using KlingService.Generation;

namespace KlingService.Persistence;

/// <summary>
/// The embedded-mode ledger: exact within one process, forgotten on restart. This part admits requests and hands out
/// and settles claims; <c>InMemoryRequestLedger.Records.cs</c> keeps the job records, ends and cancels. Which request
/// holds a slot and which is next are <see cref="LedgerRules"/>, shared with PostgreSQL.
/// </summary>
public sealed partial class InMemoryRequestLedger(TimeProvider time, LauncherSignal signal) : IRequestLedger
{
    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, InMemoryLedgerEntry> _entries = [];
    private long _sequence;

    public bool AnnouncesInTransaction => false;

    public ValueTask<Admission> AdmitAsync(GenerateVideo command, string? traceParent, DateTimeOffset? startBy, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(command.RequestId, out var known))
            {
                return ValueTask.FromResult(
                    known.Ended || known.CancelledAt is not null ? Admission.Ended
                    : known.TaskId is { } taskId ? Admission.Submitted(taskId)
                    : Admission.Waiting);
            }

            _entries[command.RequestId] = new InMemoryLedgerEntry(command, traceParent, time.GetUtcNow(), _sequence++, startBy);
        }

        signal.Pulse();
        return ValueTask.FromResult(Admission.Admitted);
    }

    public ValueTask<bool> RecordRejectedAsync(VideoFailed answer, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var entry = NewEntry();
            entry.Ended = true;
            entry.EndedAt = entry.AdmittedAt;
            entry.Outcome = JobOutcome.Of(answer);
            return ValueTask.FromResult(_entries.TryAdd(answer.RequestId, entry));
        }
    }

    public ValueTask<PendingCreate?> TakeNextAsync(int slotLimit, TimeSpan lease, TimeSpan abandonedAfter, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var slotFree = _entries.Values.Count(e => LedgerRules.HoldsSlot(e.Facts)) < slotLimit;
            var next = _entries.Values
                .Where(e => (slotFree && LedgerRules.IsDue(e.Facts, now)) || LedgerRules.IsAbandoned(e.Facts, now, abandonedAfter))
                .MinBy(e => e.Sequence);
            if (next is null)
            {
                return ValueTask.FromResult<PendingCreate?>(null);
            }

            var abandoned = next.Claim is not null;
            next.Claim = Guid.NewGuid();
            next.LeaseUntil = now + lease;
            return ValueTask.FromResult<PendingCreate?>(new PendingCreate(
                next.Command!, next.FailedAttempts, next.TraceParent, next.AdmittedAt, next.Claim.Value, abandoned, next.CancelledAt is not null));
        }
    }

    public ValueTask<bool> RenewAsync(Guid requestId, Guid claim, TimeSpan lease, CancellationToken cancellationToken) =>
        Change(requestId, entry => entry.IsWaiting && entry.Claim == claim, entry => entry.LeaseUntil = time.GetUtcNow() + lease);

    public ValueTask<(TaskRecording Outcome, string? ExistingTaskId)> RecordTaskAsync(
        Guid requestId, Guid claim, string taskId, VideoGenerationSubmitted announcement, CancellationToken cancellationToken)
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
                entry.SubmittedAt = time.GetUtcNow();
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
            if (entry.CancelledAt is not null)
            {
                // Cancelled while this attempt ran: answered already, and never created now.
                End(entry, null);
            }
        });

    public async ValueTask<bool> EndWithoutTaskAsync(Guid requestId, Guid? claim, VideoFailed answer, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _entries.TryAdd(requestId, NewEntry());
        }

        var answered = false;
        var ended = await Change(requestId, entry => entry.IsWaiting && entry.Claim == claim, entry =>
        {
            answered = entry.CancelledAt is null;
            End(entry, JobOutcome.Of(answer));
        });
        return ended && answered;
    }

    /// <summary>An entry for a request never admitted: it is only ever ended.</summary>
    private InMemoryLedgerEntry NewEntry() => new(null, null, time.GetUtcNow(), _sequence++);

    private void End(InMemoryLedgerEntry entry, JobOutcome? outcome)
    {
        entry.Ended = true;
        // Written once: a retried or late end must not move the moment the job ended.
        entry.EndedAt ??= time.GetUtcNow();
        entry.Outcome ??= outcome;
        entry.Claim = null;
        entry.Command = null;
    }

    private ValueTask<bool> Change(Guid requestId, Func<InMemoryLedgerEntry, bool> guard, Action<InMemoryLedgerEntry> change)
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
}
