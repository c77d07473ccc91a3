using KlingService.Generation;

namespace KlingService.Persistence;

/// <summary>The embedded-mode ledger: exact within one process, forgotten on restart.</summary>
public sealed class InMemoryRequestLedger(TimeProvider time) : IRequestLedger
{
    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, Entry> _entries = [];

    public ValueTask<RequestClaim> TryClaimAsync(Guid requestId, TimeSpan lease, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            if (_entries.TryGetValue(requestId, out var entry))
            {
                if (entry.Ended)
                {
                    return ValueTask.FromResult(RequestClaim.Ended);
                }

                if (entry.TaskId is not null)
                {
                    return ValueTask.FromResult(RequestClaim.Submitted(entry.TaskId));
                }

                if (entry.LeaseUntil > now)
                {
                    return ValueTask.FromResult(RequestClaim.Busy);
                }
            }

            _entries[requestId] = new Entry(null, now + lease, Ended: false);
            return ValueTask.FromResult(RequestClaim.Claimed);
        }
    }

    public ValueTask RecordTaskAsync(Guid requestId, string taskId, CancellationToken cancellationToken) =>
        Update(requestId, entry => entry with { TaskId = taskId });

    public ValueTask ReleaseAsync(Guid requestId, CancellationToken cancellationToken) =>
        Update(requestId, entry => entry with { LeaseUntil = DateTimeOffset.MinValue });

    public ValueTask RecordEndedAsync(Guid requestId, CancellationToken cancellationToken) =>
        Update(requestId, entry => entry with { Ended = true });

    private ValueTask Update(Guid requestId, Func<Entry, Entry> change)
    {
        lock (_gate)
        {
            var entry = _entries.GetValueOrDefault(requestId) ?? new Entry(null, DateTimeOffset.MinValue, Ended: false);
            _entries[requestId] = change(entry);
        }

        return ValueTask.CompletedTask;
    }

    private sealed record Entry(string? TaskId, DateTimeOffset LeaseUntil, bool Ended);
}
