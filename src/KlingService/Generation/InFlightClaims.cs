namespace KlingService.Generation;

/// <summary>
/// The claim each of this instance's running create attempts writes under, by request. A claim that lapsed while the
/// database was away may come back to this instance as abandoned: it is then handed to the attempt still running
/// here, never treated as someone else's lost call.
/// </summary>
public sealed class InFlightClaims
{
    private readonly Dictionary<Guid, Guid> _claims = [];
    private readonly Lock _gate = new();

    /// <summary>
    /// Notes a claim just taken. True when it is an abandoned claim on a request whose attempt still runs here: that
    /// attempt writes under it from now on, and no other attempt is to start.
    /// </summary>
    public bool HandedToRunningAttempt(PendingCreate taken)
    {
        lock (_gate)
        {
            var handedOver = taken.Abandoned && _claims.ContainsKey(taken.Command.RequestId);
            _claims[taken.Command.RequestId] = taken.Claim;
            return handedOver;
        }
    }

    /// <summary>The claim the attempt on <paramref name="job"/> writes under now: the one it took, or one handed to it since.</summary>
    public Guid ClaimOf(PendingCreate job)
    {
        lock (_gate)
        {
            return _claims.TryGetValue(job.Command.RequestId, out var claim) ? claim : job.Claim;
        }
    }

    /// <summary>The attempt on the request has ended.</summary>
    public void Forget(Guid requestId)
    {
        lock (_gate)
        {
            _claims.Remove(requestId);
        }
    }
}
