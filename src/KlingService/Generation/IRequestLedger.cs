using KlingService.Contracts;

namespace KlingService.Generation;

/// <summary>
/// One entry per RequestId, shared by every instance: the backlog of accepted commands, the
/// account's generation slots, and what became of each request. It is what makes a repeated
/// command cost nothing (one Kling task, one terminal event) and keeps the account under its cap.
/// </summary>
/// <remarks>
/// A request holds one of the account's slots while a claim on it is open (its task is being
/// created) and while its task generates, until the job ends. Each claim has a token; every write
/// about a create attempt names it, so an instance whose claim was lost changes nothing it no
/// longer owns.
/// </remarks>
public interface IRequestLedger
{
    /// <summary>
    /// True when the ledger writes the announcements its writes call for (a task's Submitted, a
    /// request's VideoFailed, a cancel's answer) as outbox rows in the same transaction; the caller
    /// then publishes nothing itself. False in memory: the caller publishes.
    /// </summary>
    bool AnnouncesInTransaction { get; }

    /// <summary>
    /// Puts a valid command in the backlog, unless its request is known already. The job's W3C
    /// trace context goes with it, so its task is created in the job's trace. A request not given a
    /// slot by <paramref name="startBy"/> is never claimed after it (see <see cref="EndPastStartByAsync"/>).
    /// </summary>
    ValueTask<Admission> AdmitAsync(GenerateVideo command, string? traceParent, DateTimeOffset? startBy, CancellationToken cancellationToken);

    /// <summary>
    /// Records a request refused before anything was spent. False when the request is known
    /// already: a repeat, answered before or governed by its first command.
    /// </summary>
    ValueTask<bool> RecordRejectedAsync(VideoFailed answer, CancellationToken cancellationToken);

    /// <summary>
    /// Claims the oldest waiting request that is due and not past its start-by moment, for <paramref name="lease"/>, when fewer than
    /// <paramref name="slotLimit"/> requests hold a slot; otherwise null. A request whose earlier
    /// claim lapsed more than <paramref name="abandonedAfter"/> ago (its holder died mid-call) is
    /// claimed again with <see cref="PendingCreate.Abandoned"/> set, whatever the slot count (it
    /// holds its slot already).
    /// </summary>
    ValueTask<PendingCreate?> TakeNextAsync(int slotLimit, TimeSpan lease, TimeSpan abandonedAfter, CancellationToken cancellationToken);

    /// <summary>Extends a claim while its call runs; false when the claim is no longer held.</summary>
    ValueTask<bool> RenewAsync(Guid requestId, Guid claim, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Records the task created for a request under <paramref name="claim"/>; the request keeps its
    /// slot until its job ends. A task that comes back after its claim was lost is still recorded
    /// when the request has none; otherwise the answer says why it was not.
    /// </summary>
    ValueTask<(TaskRecording Outcome, string? ExistingTaskId)> RecordTaskAsync(
        Guid requestId, Guid claim, string taskId, VideoGenerationSubmitted announcement, CancellationToken cancellationToken);

    /// <summary>
    /// Ends the claim and returns the request to the backlog, due again after <paramref name="delay"/>.
    /// <paramref name="failedAttempt"/> says whether the attempt counts towards the limit (a 429 does not: the account was only busy).
    /// False when the claim was no longer held.
    /// </summary>
    ValueTask<bool> PostponeAsync(Guid requestId, Guid claim, TimeSpan delay, bool failedAttempt, CancellationToken cancellationToken);

    /// <summary>
    /// Ends a request that has no task, answered with <paramref name="answer"/>. With a
    /// <paramref name="claim"/>, only while that claim holds; without one, only when no claim is open
    /// (no create call may be under way). False when the request was not ended here, or its client
    /// was already answered (it was cancelled): then the caller announces nothing.
    /// </summary>
    ValueTask<bool> EndWithoutTaskAsync(Guid requestId, Guid? claim, VideoFailed answer, CancellationToken cancellationToken);

    /// <summary>
    /// Ends every waiting request admitted before <paramref name="admittedBefore"/> that has no task
    /// and no open claim, answered with <paramref name="reason"/> and <paramref name="message"/>; returns their ids.
    /// </summary>
    ValueTask<IReadOnlyList<Guid>> EndAllWaitingAsync(
        DateTimeOffset admittedBefore, VideoFailureReason reason, string message, CancellationToken cancellationToken);

    /// <summary>
    /// Ends every waiting request whose start-by moment is not after <paramref name="now"/> and that has no task and no open
    /// claim, answered as StartByPassed with <paramref name="message"/>; returns their ids.
    /// </summary>
    ValueTask<IReadOnlyList<Guid>> EndPastStartByAsync(DateTimeOffset now, string message, CancellationToken cancellationToken);

    /// <summary>
    /// Records that the request's job ended: its slot is free, repeats get the stored outcome again. The end's moment is
    /// written once, here or by any other end; a later end never moves it.
    /// Returns what the client is to hear: the outcome stored first (a retried end publishes exactly
    /// what was recorded), or null when the client cancelled and has had its answer already.
    /// </summary>
    ValueTask<JobOutcome?> RecordEndedAsync(Guid requestId, JobOutcome? outcome, CancellationToken cancellationToken);

    /// <summary>
    /// The provider finished the request's task and its video is being stored: the record shows the provider's final
    /// status, and the request gives its account slot back now, not when the copy ends, so the paid concurrency is not
    /// idle while videos are copied.
    /// </summary>
    ValueTask RecordTaskFinishedAsync(Guid requestId, string? status, CancellationToken cancellationToken);

    /// <summary>
    /// Records the provider's last report on a generating job, for the status query; nothing once the job ended or its task
    /// finished (the final status stays). True when the client has cancelled it.
    /// </summary>
    ValueTask<bool> RecordProgressAsync(Guid requestId, string? status, int? progressPercent, int? etaSeconds, CancellationToken cancellationToken);

    /// <summary>The request's record, read without locking it; null when there is none.</summary>
    ValueTask<JobRecord?> GetRecordAsync(Guid requestId, CancellationToken cancellationToken);

    /// <summary>
    /// Cancels a request that has not ended, answering it with <paramref name="answer"/> (a waiting
    /// one ends; one with a create call under way or a task keeps its slot until the provider is done).
    /// </summary>
    ValueTask<(CancelEffect Effect, string? TaskId)> CancelAsync(Guid requestId, Func<CancelEffect, VideoFailed> answer, CancellationToken cancellationToken);

    /// <summary>Deletes the records of requests that ended before <paramref name="endedBefore"/>; returns how many.</summary>
    ValueTask<int> DeleteEndedBeforeAsync(DateTimeOffset endedBefore, CancellationToken cancellationToken);

    /// <summary>What the ledger knows of a request, or null when it knows nothing.</summary>
    ValueTask<LedgerEntry?> FindAsync(Guid requestId, CancellationToken cancellationToken);
}
