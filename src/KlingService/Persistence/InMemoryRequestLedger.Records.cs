using KlingService.Contracts;
using KlingService.Generation;

namespace KlingService.Persistence;

/// <summary>The in-memory ledger's job records: ends, the provider's reports, the status query, cancels and retention.</summary>
public sealed partial class InMemoryRequestLedger
{
    public ValueTask<IReadOnlyList<Guid>> EndAllWaitingAsync(
        DateTimeOffset admittedBefore, VideoFailureReason reason, string message, CancellationToken cancellationToken) =>
        EndQueued(entry => entry.AdmittedAt < admittedBefore, reason, message);

    public ValueTask<IReadOnlyList<Guid>> EndPastStartByAsync(DateTimeOffset now, string message, CancellationToken cancellationToken) =>
        EndQueued(entry => entry.StartBy <= now, VideoFailureReason.StartByPassed, message);

    public ValueTask<JobOutcome?> RecordEndedAsync(Guid requestId, JobOutcome? outcome, CancellationToken cancellationToken)
    {
        JobOutcome? answer;
        lock (_gate)
        {
            if (!_entries.TryGetValue(requestId, out var entry))
            {
                entry = NewEntry();
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

            int? position = LedgerRules.IsUncreated(entry.Facts)
                ? _entries.Values.Count(e => LedgerRules.IsQueued(e.Facts) && e.Sequence <= entry.Sequence)
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
                // A cancel that overtook its command: the command, when it comes, finds its request ended.
                var remembered = NewEntry();
                remembered.Ended = true;
                remembered.EndedAt = remembered.CancelledAt = remembered.AdmittedAt;
                remembered.Outcome = JobOutcome.Of(answer(CancelEffect.CancelledBeforeArrival));
                _entries[requestId] = remembered;
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

    /// <summary>Ends the queued requests (no task, no open claim, not cancelled) that <paramref name="which"/> selects.</summary>
    private ValueTask<IReadOnlyList<Guid>> EndQueued(Func<InMemoryLedgerEntry, bool> which, VideoFailureReason reason, string message)
    {
        List<Guid> ended;
        lock (_gate)
        {
            ended = [.. _entries.Where(e => LedgerRules.IsQueued(e.Value.Facts) && which(e.Value)).Select(e => e.Key)];
            foreach (var requestId in ended)
            {
                End(_entries[requestId], JobOutcome.Of(new VideoFailed(requestId, null, reason, message)));
            }
        }

        if (ended.Count > 0)
        {
            signal.Pulse();
        }

        return ValueTask.FromResult<IReadOnlyList<Guid>>(ended);
    }
}
