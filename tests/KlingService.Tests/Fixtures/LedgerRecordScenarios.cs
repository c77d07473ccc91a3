using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Kling;

namespace KlingService.Tests.Fixtures;

/// <summary>
/// What the status query reads of a job once it is over, played against any ledger, so the in-memory and the
/// PostgreSQL stores are held to the same record.
/// </summary>
public static class LedgerRecordScenarios
{
    /// <summary>
    /// A job cancelled while generating keeps being followed until the provider is done, then its record ends (and may
    /// end again, retried): the client's EndedAt stays the cancel's moment, the store's end is written once, and nothing
    /// of the provider's last "processing" report survives the cancel.
    /// </summary>
    /// <param name="ledger">The store under test.</param>
    /// <param name="pass">Lets time pass between the writes (a fake clock moves; a real one has moved anyway).</param>
    public static async Task EndedAtStaysPutThroughACancelAndLaterEndsAsync(IRequestLedger ledger, Action<TimeSpan> pass)
    {
        var requestId = await GeneratingAsync(ledger, "task-cancelled");
        await ledger.RecordProgressAsync(requestId, KlingTaskStatus.Processing, 81, 20, CancellationToken.None);

        var cancel = await ledger.CancelAsync(requestId, _ => new VideoFailed(requestId, null, VideoFailureReason.Cancelled, "cancelled"), CancellationToken.None);
        var cancelled = await ledger.GetRecordAsync(requestId, CancellationToken.None);
        var afterCancel = JobStatusView.From(requestId, cancelled);
        pass(TimeSpan.FromSeconds(25));
        var toldCancelled = await ledger.RecordProgressAsync(requestId, KlingTaskStatus.Processing, 90, 5, CancellationToken.None);
        await ledger.RecordEndedAsync(requestId, Failed(requestId, VideoFailureReason.TimedOut), CancellationToken.None);
        var ended = await ledger.GetRecordAsync(requestId, CancellationToken.None);
        var afterEnd = JobStatusView.From(requestId, ended);
        pass(TimeSpan.FromSeconds(25));
        await ledger.RecordEndedAsync(requestId, Failed(requestId, VideoFailureReason.TimedOut), CancellationToken.None);
        var endedAgain = await ledger.GetRecordAsync(requestId, CancellationToken.None);

        Assert.Equal(CancelEffect.CancelledWhileGenerating, cancel.Effect);
        Assert.True(toldCancelled);
        Assert.NotNull(cancelled!.CancelledAt);
        Assert.Equal(cancelled.CancelledAt, afterCancel.EndedAt);
        Assert.Equal(afterCancel.EndedAt, afterEnd.EndedAt);
        Assert.NotNull(ended!.EndedAt);
        Assert.Equal(ended.EndedAt, endedAgain!.EndedAt);
        Assert.Equal((JobState.Cancelled, null, null, null), (afterEnd.State, afterEnd.ProviderStatus, afterEnd.ProgressPercent, afterEnd.EtaSeconds));
    }

    /// <summary>
    /// A cancel that overtakes its command (separate queues, a backlog on one): the cancel is remembered, so the command,
    /// when it comes, finds its request ended and cancelled, is never offered for a create, and replays the cancellation.
    /// </summary>
    public static async Task ACancelThatOvertakesItsCommandIsRememberedAsync(IRequestLedger ledger)
    {
        var command = GenerationHarness.ValidCommand();
        var requestId = command.RequestId;

        var cancel = await ledger.CancelAsync(requestId, effect => new VideoFailed(requestId, null, VideoFailureReason.Cancelled, $"cancelled: {effect}"), CancellationToken.None);
        var admission = await ledger.AdmitAsync(command, null, null, CancellationToken.None);
        var offered = await ledger.TakeNextAsync(10, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(3), CancellationToken.None);
        var again = await ledger.CancelAsync(requestId, effect => new VideoFailed(requestId, null, VideoFailureReason.Cancelled, $"cancelled: {effect}"), CancellationToken.None);
        var status = JobStatusView.From(requestId, await ledger.GetRecordAsync(requestId, CancellationToken.None));

        Assert.Equal(CancelEffect.CancelledBeforeArrival, cancel.Effect);
        Assert.Equal(AdmissionStatus.Ended, admission.Status);
        Assert.True(offered is null || offered.Command.RequestId != requestId, "The cancelled request was offered for a create.");
        Assert.Equal(CancelEffect.None, again.Effect);
        Assert.Equal(JobState.Cancelled, status.State);
        Assert.Equal($"cancelled: {CancelEffect.CancelledBeforeArrival}", status.Message);
        Assert.NotNull(status.EndedAt);
    }

    /// <summary>
    /// A succeeded job reads as the provider's final status at 100 %, whether its video was stored (the finished task
    /// recorded its status, and a late check must not overwrite it) or delivered right after a check that saw it processing.
    /// </summary>
    public static async Task ASucceededJobShowsTheFinalStatusAsync(IRequestLedger ledger)
    {
        var stored = await GeneratingAsync(ledger, "task-stored");
        await ledger.RecordProgressAsync(stored, KlingTaskStatus.Processing, 82, 10, CancellationToken.None);
        await ledger.RecordTaskFinishedAsync(stored, KlingTaskStatus.Succeed, CancellationToken.None);
        await ledger.RecordProgressAsync(stored, KlingTaskStatus.Processing, 82, 10, CancellationToken.None);
        var finished = await ledger.GetRecordAsync(stored, CancellationToken.None);
        await ledger.RecordEndedAsync(stored, Ready(stored, "task-stored"), CancellationToken.None);
        var storedStatus = JobStatusView.From(stored, await ledger.GetRecordAsync(stored, CancellationToken.None));

        var delivered = await GeneratingAsync(ledger, "task-delivered");
        await ledger.RecordProgressAsync(delivered, KlingTaskStatus.Processing, 82, 10, CancellationToken.None);
        await ledger.RecordEndedAsync(delivered, Ready(delivered, "task-delivered"), CancellationToken.None);
        var deliveredStatus = JobStatusView.From(delivered, await ledger.GetRecordAsync(delivered, CancellationToken.None));

        Assert.Equal((KlingTaskStatus.Succeed, 100, null), (finished!.ProviderStatus, finished.ProgressPercent, finished.EtaSeconds));
        foreach (var status in new[] { storedStatus, deliveredStatus })
        {
            Assert.Equal(
                (JobState.Succeeded, KlingTaskStatus.Succeed, 100, null),
                (status.State, status.ProviderStatus, status.ProgressPercent, status.EtaSeconds));
        }
    }

    /// <summary>
    /// A request past its start-by moment is never offered for a create, whatever slots are free; the sweep ends it as
    /// StartByPassed and spares the request that is being created, the one that waits with time left and the one without a
    /// bound. The status shows the moment a waiting request gives up.
    /// </summary>
    /// <param name="ledger">The store under test.</param>
    /// <param name="now">The store's clock.</param>
    public static async Task ARequestPastItsStartByIsNeverOfferedAndEndsStartByPassedAsync(IRequestLedger ledger, Func<DateTimeOffset> now)
    {
        var past = GenerationHarness.ValidCommand() with { Prompt = "past" };
        var creating = GenerationHarness.ValidCommand() with { Prompt = "being created" };
        var later = GenerationHarness.ValidCommand() with { Prompt = "time left" };
        var unbounded = GenerationHarness.ValidCommand() with { Prompt = "no bound" };
        // Older first: the past request would be next in line if its bound did not hold.
        await ledger.AdmitAsync(past, null, now().AddSeconds(-1), CancellationToken.None);
        await ledger.AdmitAsync(creating, null, now().AddHours(1), CancellationToken.None);
        await ledger.AdmitAsync(later, null, now().AddHours(1), CancellationToken.None);
        await ledger.AdmitAsync(unbounded, null, null, CancellationToken.None);

        var taken = await ledger.TakeNextAsync(10, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(3), CancellationToken.None);
        var laterStatus = JobStatusView.From(later.RequestId, await ledger.GetRecordAsync(later.RequestId, CancellationToken.None));
        var ended = await ledger.EndPastStartByAsync(now(), "waited too long", CancellationToken.None);
        var pastStatus = JobStatusView.From(past.RequestId, await ledger.GetRecordAsync(past.RequestId, CancellationToken.None));
        var again = await ledger.EndPastStartByAsync(now(), "waited too long", CancellationToken.None);

        Assert.Equal(creating.RequestId, taken?.Command.RequestId);
        Assert.Equal(past.RequestId, Assert.Single(ended));
        Assert.Empty(again);
        Assert.Equal((JobState.Failed, VideoFailureReason.StartByPassed, "waited too long"), (pastStatus.State, pastStatus.Reason, pastStatus.Message));
        Assert.Equal(JobState.Waiting, laterStatus.State);
        Assert.NotNull(laterStatus.StartBy);
        Assert.InRange(laterStatus.StartBy!.Value, now().AddMinutes(59), now().AddHours(1));
        foreach (var spared in new[] { creating, later, unbounded })
        {
            Assert.False((await ledger.FindAsync(spared.RequestId, CancellationToken.None))!.Ended, spared.Prompt);
        }

        var next = await ledger.TakeNextAsync(10, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(3), CancellationToken.None);
        Assert.Equal(later.RequestId, next?.Command.RequestId);
    }

    private static async Task<Guid> GeneratingAsync(IRequestLedger ledger, string taskId)
    {
        var command = GenerationHarness.ValidCommand();
        await ledger.AdmitAsync(command, null, null, CancellationToken.None);
        var taken = await ledger.TakeNextAsync(100, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.Equal(command.RequestId, taken?.Command.RequestId);
        var announcement = new VideoGenerationSubmitted(command.RequestId, taskId, DateTimeOffset.UtcNow, VideoMode.Standard, 5);
        var (recorded, _) = await ledger.RecordTaskAsync(command.RequestId, taken!.Claim, taskId, announcement, CancellationToken.None);
        Assert.Equal(TaskRecording.Recorded, recorded);
        return command.RequestId;
    }

    private static JobOutcome Failed(Guid requestId, VideoFailureReason reason) => JobOutcome.Of(new VideoFailed(requestId, null, reason, "detail"));

    private static JobOutcome Ready(Guid requestId, string taskId) => JobOutcome.Of(new VideoReady(
        requestId, taskId, "https://cdn.example/v.mp4", DateTimeOffset.UtcNow.AddHours(1), "mp4", TimeSpan.FromMinutes(1)));
}
