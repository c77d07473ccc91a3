namespace KlingService.Generation;

/// <summary>
/// Remembers what became of each RequestId, so a redelivered or repeated command creates no second
/// Kling task (a second charge) and no second terminal event.
/// </summary>
public interface IRequestLedger
{
    /// <summary>
    /// Claims the request for one attempt at creating its task. The claim lapses after
    /// <paramref name="lease"/>, so a crashed attempt does not block the request forever.
    /// </summary>
    ValueTask<RequestClaim> TryClaimAsync(Guid requestId, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Records the task created for a claimed request.</summary>
    ValueTask RecordTaskAsync(Guid requestId, string taskId, CancellationToken cancellationToken);

    /// <summary>Gives a claim back after an attempt that created nothing, so a retry may claim it at once.</summary>
    ValueTask ReleaseAsync(Guid requestId, CancellationToken cancellationToken);

    /// <summary>Records that the request's job ended (ready or failed): repeats of it are ignored from now on.</summary>
    ValueTask RecordEndedAsync(Guid requestId, CancellationToken cancellationToken);
}
