using KlingService.Contracts;

namespace KlingService.Generation;

/// <summary>
/// One entry per RequestId, shared by every instance: the backlog of accepted commands, the
/// account's generation slots, and what became of each request. It is what makes a repeated
/// command cost nothing (one Kling task, one terminal event) and keeps the account under its cap.
/// </summary>
/// <remarks>
/// A request holds one of the account's slots while its task is being created (a lease, so a
/// crashed attempt gives it back) and while the task generates, until the job ends.
/// </remarks>
public interface IRequestLedger
{
    /// <summary>
    /// Puts a valid command in the backlog, unless its request is known already. The job's W3C
    /// trace context goes with it, so its task is created in the job's trace.
    /// </summary>
    ValueTask<Admission> AdmitAsync(GenerateVideo command, string? traceParent, CancellationToken cancellationToken);

    /// <summary>
    /// Records a request refused before anything was spent. False when the request is known
    /// already: a repeat, answered before or governed by its first command.
    /// </summary>
    ValueTask<bool> RecordRejectedAsync(Guid requestId, CancellationToken cancellationToken);

    /// <summary>
    /// When fewer than <paramref name="slotLimit"/> requests hold a slot, gives the oldest waiting
    /// request that is due a slot for <paramref name="lease"/>, to create its task; otherwise null.
    /// </summary>
    ValueTask<PendingCreate?> TakeNextAsync(int slotLimit, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Records the task created for a request; the request keeps its slot until its job ends.</summary>
    ValueTask RecordTaskAsync(Guid requestId, string taskId, CancellationToken cancellationToken);

    /// <summary>
    /// Gives the slot back and returns the request to the backlog, due again after <paramref name="delay"/>.
    /// <paramref name="failedAttempt"/> says whether the attempt counts towards the limit (a 429 does not: the account was only busy).
    /// </summary>
    ValueTask PostponeAsync(Guid requestId, TimeSpan delay, bool failedAttempt, CancellationToken cancellationToken);

    /// <summary>Records that the request's job ended (ready or failed): its slot is free and repeats are ignored.</summary>
    ValueTask RecordEndedAsync(Guid requestId, CancellationToken cancellationToken);
}
