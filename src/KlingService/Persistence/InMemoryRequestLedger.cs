using KlingService.Contracts;
using KlingService.Generation;

namespace KlingService.Persistence;

/// <summary>The embedded-mode ledger: exact within one process, forgotten on restart.</summary>
public sealed class InMemoryRequestLedger(TimeProvider time, LauncherSignal signal) : IRequestLedger
{
    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, Entry> _entries = [];
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

            var now = time.GetUtcNow();
            _entries[command.RequestId] = new Entry(command, traceParent, now, _sequence++) { StartBy = startBy };
        }

        signal.Pulse();
        return ValueTask.FromResult(Admission.Admitted);
    }

    public ValueTask<bool> RecordRejectedAsync(VideoFailed answer, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            return ValueTask.FromResult(_entries.TryAdd(
                answer.RequestId, new Entry(null, null, now, _sequence++) { Ended = true, EndedAt = now, Outcome = JobOutcome.Of(answer) }));
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
                    && (e.Claim is null ? slotFree && e.CancelledAt is null && !(e.StartBy <= now) : e.LeaseUntil <= now - abandonedAfter))
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
            _entries.TryAdd(requestId, new Entry(null, null, time.GetUtcNow(), _sequence++));
        }

        var answered = false;
        var ended = await Change(requestId, entry => entry.IsWaiting && entry.Claim == claim, entry =>
        {
            answered = entry.CancelledAt is null;
            End(entry, JobOutcome.Of(answer));
        });
        return ended && answered;
    }

    public ValueTask<IReadOnlyList<Guid>> EndAllWaitingAsync(
        DateTimeOffset admittedBefore, VideoFailureReason reason, string message, CancellationToken cancellationToken)
    {
        List<Guid> ended;
        lock (_gate)
        {
            ended = [.. _entries
                .Where(e => e.Value.IsWaiting && e.Value.Claim is null && e.Value.Command is not null && e.Value.CancelledAt is null
                    && e.Value.AdmittedAt < admittedBefore)
                .Select(e => e.Key)];
            foreach (var requestId in ended)
            {
                End(_entries[requestId], JobOutcome.Of(new VideoFailed(requestId, null, reason, message)));
            }
        }

        signal.Pulse();
        return ValueTask.FromResult<IReadOnlyList<Guid>>(ended);
    }

    public ValueTask<IReadOnlyList<Guid>> EndPastStartByAsync(DateTimeOffset now, string message, CancellationToken cancellationToken)
    {
        List<Guid> ended;
        lock (_gate)
        {
            ended = [.. _entries
                .Where(e => e.Value.IsWaiting && e.Value.Claim is null && e.Value.Command is not null && e.Value.CancelledAt is null
                    && e.Value.StartBy <= now)
                .Select(e => e.Key)];
            foreach (var requestId in ended)
            {
                End(_entries[requestId], JobOutcome.Of(new VideoFailed(requestId, null, VideoFailureReason.StartByPassed, message)));
            }
        }

        if (ended.Count > 0)
        {
            signal.Pulse();
        }

        return ValueTask.FromResult<IReadOnlyList<Guid>>(ended);
    }

    public ValueTask<JobOutcome?> RecordEndedAsync(Guid requestId, JobOutcome? outcome, CancellationToken cancellationToken)
    {
        JobOutcome? answer;
        lock (_gate)
        {
            if (!_entries.TryGetValue(requestId, out var entry))
            {
                entry = new Entry(null, null, time.GetUtcNow(), _sequence++);
                _entries[requestId] = entry;
            }

            End(entry, outcome);
            answer = entry.CancelledAt is null ? entry.Outcome : null;
        }

        signal.Pulse();
        return ValueTask.FromResult(answer);
    }

    public ValueTask<LedgerEntry?> FindAsync(Guid requestId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_entries.TryGetValue(requestId, out var entry)
                ? new LedgerEntry(entry.TaskId, entry.Ended, entry.CancelledAt is not null)
                : null);
        }
    }

    public ValueTask RecordTaskFinishedAsync(Guid requestId, string? status, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(requestId, out var entry) || entry.Ended || entry.TaskFinished)
            {
                return ValueTask.CompletedTask;
            }

            entry.ProviderStatus = status;
            entry.ProgressPercent = 100;
            entry.EtaSeconds = null;
            entry.TaskFinished = true;
        }

        signal.Pulse();
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> RecordProgressAsync(Guid requestId, string? status, int? progressPercent, int? etaSeconds, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // A late check never overwrites the final status the finished task recorded.
            if (!_entries.TryGetValue(requestId, out var entry) || entry.Ended || entry.TaskFinished)
            {
                return ValueTask.FromResult(false);
            }

            entry.ProviderStatus = status;
            entry.ProgressPercent = progressPercent;
            entry.EtaSeconds = etaSeconds;
            return ValueTask.FromResult(entry.CancelledAt is not null);
        }
    }

    public ValueTask<JobRecord?> GetRecordAsync(Guid requestId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(requestId, out var entry))
            {
                return ValueTask.FromResult<JobRecord?>(null);
            }

            int? position = entry.IsWaiting && entry.Command is not null
                ? _entries.Values.Count(e => e.IsWaiting && e.Command is not null && e.Claim is null && e.CancelledAt is null && e.Sequence <= entry.Sequence)
                : null;
            return ValueTask.FromResult<JobRecord?>(new JobRecord(
                requestId, entry.TaskId, entry.Claim is not null, entry.AdmittedAt, entry.SubmittedAt, entry.EndedAt, entry.CancelledAt,
                entry.ProviderStatus, entry.ProgressPercent, entry.EtaSeconds, position, entry.Outcome, entry.StartBy));
        }
    }

    public ValueTask<(CancelEffect Effect, string? TaskId)> CancelAsync(
        Guid requestId, Func<CancelEffect, VideoFailed> answer, CancellationToken cancellationToken)
    {
        (CancelEffect, string?) result;
        lock (_gate)
        {
            if (!_entries.TryGetValue(requestId, out var entry))
            {
                var now = time.GetUtcNow();
                _entries[requestId] = new Entry(null, null, now, _sequence++)
                {
                    Ended = true, EndedAt = now, CancelledAt = now, Outcome = JobOutcome.Of(answer(CancelEffect.CancelledBeforeArrival)),
                };
                return ValueTask.FromResult<(CancelEffect, string?)>((CancelEffect.CancelledBeforeArrival, null));
            }

            // A task that finished is past cancelling: its video is being stored and will be delivered.
            if (entry.Ended || entry.CancelledAt is not null || entry.TaskFinished)
            {
                return ValueTask.FromResult<(CancelEffect, string?)>((CancelEffect.None, null));
            }

            var effect = entry.TaskId is not null ? CancelEffect.CancelledWhileGenerating
                : entry.Claim is not null ? CancelEffect.CancelledWhileCreating
                : CancelEffect.EndedWaiting;
            entry.CancelledAt = time.GetUtcNow();
            entry.Outcome = JobOutcome.Of(answer(effect) with { TaskId = entry.TaskId });
            if (effect == CancelEffect.EndedWaiting)
            {
                End(entry, null);
            }

            result = (effect, entry.TaskId);
        }

        signal.Pulse();
        return ValueTask.FromResult(result);
    }

    public ValueTask<int> DeleteEndedBeforeAsync(DateTimeOffset endedBefore, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var expired = _entries.Where(e => e.Value.EndedAt < endedBefore).Select(e => e.Key).ToList();
            expired.ForEach(requestId => _entries.Remove(requestId));
            return ValueTask.FromResult(expired.Count);
        }
    }

    private void End(Entry entry, JobOutcome? outcome)
    {
        entry.Ended = true;
        // Written once: a retried or late end must not move the moment the job ended.
        entry.EndedAt ??= time.GetUtcNow();
        entry.Outcome ??= outcome;
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
        public DateTimeOffset? StartBy { get; init; }

        /// <summary>No task yet and not ended: in the backlog, or being created.</summary>
        public bool IsWaiting => !Ended && TaskId is null;

        /// <summary>The provider is done with the task; its video is being stored.</summary>
        public bool TaskFinished { get; set; }

        /// <summary>A task generates, or a claim is open (a create call may be under way).</summary>
        public bool HoldsSlot => !Ended && !TaskFinished && (TaskId is not null || Claim is not null);
    }
}
