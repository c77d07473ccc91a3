using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Kling;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Ledger;

/// <summary>
/// What every <see cref="IRequestLedger"/> does, run against each store: in memory on a fake clock
/// (<see cref="InMemoryRequestLedgerTests"/>) and on a real PostgreSQL server
/// (<see cref="Integration.PostgresRequestLedgerTests"/>), so the two cannot drift apart.
/// </summary>
public abstract class RequestLedgerSpec
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(5);

    /// <summary>The store under test, one per test.</summary>
    protected abstract IRequestLedger Ledger { get; }

    /// <summary>The store's clock.</summary>
    protected abstract DateTimeOffset Now { get; }

    /// <summary>Lets time pass: a fake clock moves, a real one is waited out.</summary>
    protected abstract Task PassAsync(TimeSpan time);

    /// <summary>
    /// The announcements the store committed with its writes, as outbox rows of <paramref name="type"/> whose body contains
    /// <paramref name="containing"/>. A store that commits none leaves them to its caller, who announces what its answers say.
    /// </summary>
    protected abstract Task AssertAnnouncedAsync(string type, string containing, int expected);

    [Fact]
    public async Task Only_one_of_many_concurrent_admissions_of_a_request_wins()
    {
        var command = GenerationHarness.ValidCommand();

        var admissions = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            Ledger.AdmitAsync(command, null, null, CancellationToken.None).AsTask()));

        Assert.Single(admissions, a => a.Status == AdmissionStatus.Admitted);
        Assert.All(admissions.Where(a => a.Status != AdmissionStatus.Admitted), a => Assert.Equal(AdmissionStatus.Waiting, a.Status));
    }

    [Fact]
    public async Task The_ledger_remembers_each_stage_of_a_request()
    {
        var command = GenerationHarness.ValidCommand();

        var first = await Ledger.AdmitAsync(command, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", null, CancellationToken.None);
        var taken = await TakeAsync();
        var whileCreating = await Ledger.AdmitAsync(command, null, null, CancellationToken.None);
        await Ledger.RecordTaskAsync(command.RequestId, taken!.Claim, "task-9", Announcement("task-9"), CancellationToken.None);
        var afterTask = await Ledger.AdmitAsync(command, null, null, CancellationToken.None);
        var rejectedRepeat = await Ledger.RecordRejectedAsync(Rejected(command.RequestId), CancellationToken.None);
        await Ledger.RecordEndedAsync(command.RequestId, null, CancellationToken.None);
        var afterEnd = await Ledger.AdmitAsync(command, null, null, CancellationToken.None);

        Assert.Equal(AdmissionStatus.Admitted, first.Status);
        Assert.Equal(command, taken?.Command);
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", taken?.TraceParent);
        Assert.Equal(AdmissionStatus.Waiting, whileCreating.Status);
        Assert.Equal(Admission.Submitted("task-9"), afterTask);
        Assert.False(rejectedRepeat);
        Assert.Equal(AdmissionStatus.Ended, afterEnd.Status);
    }

    [Fact]
    public async Task A_rejected_request_is_answered_once_and_never_created()
    {
        var requestId = Guid.NewGuid();

        var first = await Ledger.RecordRejectedAsync(Rejected(requestId), CancellationToken.None);
        var repeat = await Ledger.RecordRejectedAsync(Rejected(requestId), CancellationToken.None);

        Assert.True(first);
        Assert.False(repeat);
        Assert.Null(await TakeAsync());
    }

    [Fact]
    public async Task A_lapsed_claim_holds_its_slot_and_is_taken_again_only_as_abandoned_after_the_grace()
    {
        var command = GenerationHarness.ValidCommand();
        var other = GenerationHarness.ValidCommand();
        await Ledger.AdmitAsync(command, null, null, CancellationToken.None);
        await Ledger.AdmitAsync(other, null, null, CancellationToken.None);

        var crashed = await Ledger.TakeNextAsync(1, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(300), CancellationToken.None);
        await PassAsync(TimeSpan.FromMilliseconds(50));
        // Lapsed, but a call made under it may still be running: nothing is taken, not even the other request (the slot is held).
        var withinGrace = await Ledger.TakeNextAsync(1, Minute, TimeSpan.FromMilliseconds(300), CancellationToken.None);
        var whileHeld = JobStatusView.From(command.RequestId, await Ledger.GetRecordAsync(command.RequestId, CancellationToken.None));
        await PassAsync(TimeSpan.FromMilliseconds(400));
        var takeover = await Ledger.TakeNextAsync(1, Minute, TimeSpan.FromMilliseconds(300), CancellationToken.None);

        Assert.Equal(command.RequestId, crashed?.Command.RequestId);
        Assert.False(crashed?.Abandoned);
        Assert.Null(withinGrace);
        Assert.Equal(JobState.Creating, whileHeld.State);
        Assert.Equal(command.RequestId, takeover?.Command.RequestId);
        Assert.True(takeover?.Abandoned);
        Assert.NotEqual(crashed!.Claim, takeover!.Claim);
    }

    /// <summary>
    /// The one rule of slots: a request holds one while a claim on it is open (its lease lapsed or not) or its task
    /// generates; a postpone, a finished task and an end give it back, and a request without a claim holds none, whatever
    /// lease it had. The oldest due request is next.
    /// </summary>
    [Fact]
    public async Task A_slot_is_held_by_an_open_claim_or_a_generating_task_and_given_back_by_a_postpone_a_finished_task_or_an_end()
    {
        var commands = Enumerable.Range(0, 4).Select(i => GenerationHarness.ValidCommand() with { Prompt = $"job {i}" }).ToList();
        foreach (var command in commands)
        {
            await Ledger.AdmitAsync(command, null, null, CancellationToken.None);
        }

        var first = await Ledger.TakeNextAsync(2, TimeSpan.FromHours(1), Grace, CancellationToken.None);
        var second = await Ledger.TakeNextAsync(2, TimeSpan.FromHours(1), Grace, CancellationToken.None);
        var full = await Ledger.TakeNextAsync(2, TimeSpan.FromHours(1), Grace, CancellationToken.None);
        // Its hour-long lease has not run out, but the claim is over: the slot is free, and it is the oldest again.
        await Ledger.PostponeAsync(commands[0].RequestId, first!.Claim, TimeSpan.Zero, failedAttempt: false, CancellationToken.None);
        var afterPostpone = await Ledger.TakeNextAsync(2, Minute, Grace, CancellationToken.None);
        await Ledger.RecordTaskAsync(commands[1].RequestId, second!.Claim, "task-1", Announcement("task-1"), CancellationToken.None);
        var whileGenerating = await Ledger.TakeNextAsync(2, Minute, Grace, CancellationToken.None);
        await Ledger.RecordTaskFinishedAsync(commands[1].RequestId, KlingTaskStatus.Succeed, CancellationToken.None);
        var afterFinish = await Ledger.TakeNextAsync(2, Minute, Grace, CancellationToken.None);
        var fullAgain = await Ledger.TakeNextAsync(2, Minute, Grace, CancellationToken.None);
        await Ledger.EndWithoutTaskAsync(commands[0].RequestId, afterPostpone!.Claim, Rejected(commands[0].RequestId), CancellationToken.None);
        var afterEnd = await Ledger.TakeNextAsync(2, Minute, Grace, CancellationToken.None);

        Assert.Equal(["job 0", "job 1"], new[] { first.Command.Prompt, second.Command.Prompt });
        Assert.Null(full);
        Assert.Equal("job 0", afterPostpone.Command.Prompt);
        Assert.Null(whileGenerating);
        Assert.Equal("job 2", afterFinish?.Command.Prompt);
        Assert.Null(fullAgain);
        Assert.Equal("job 3", afterEnd?.Command.Prompt);
    }

    [Fact]
    public async Task Writes_under_a_lost_claim_change_nothing_and_a_late_task_is_still_recorded_or_reported()
    {
        var command = GenerationHarness.ValidCommand();
        await Ledger.AdmitAsync(command, null, null, CancellationToken.None);
        var first = await Ledger.TakeNextAsync(5, TimeSpan.FromMilliseconds(1), TimeSpan.Zero, CancellationToken.None);
        await PassAsync(TimeSpan.FromMilliseconds(20));
        var second = await Ledger.TakeNextAsync(5, Minute, TimeSpan.Zero, CancellationToken.None);

        var staleRenew = await Ledger.RenewAsync(command.RequestId, first!.Claim, Minute, CancellationToken.None);
        var stalePostpone = await Ledger.PostponeAsync(command.RequestId, first.Claim, TimeSpan.Zero, failedAttempt: true, CancellationToken.None);
        var staleEnd = await Ledger.EndWithoutTaskAsync(command.RequestId, first.Claim, Rejected(Guid.Empty), CancellationToken.None);
        var unclaimedEnd = await Ledger.EndWithoutTaskAsync(command.RequestId, claim: null, Rejected(Guid.Empty), CancellationToken.None);
        // The first holder's call comes back late: the request has no task yet, so it is recorded all the same.
        var late = await Ledger.RecordTaskAsync(command.RequestId, first.Claim, "task-late", Announcement("task-late"), CancellationToken.None);
        // The second holder's call made a second task: a duplicate charge, reported with the first task's id.
        var duplicate = await Ledger.RecordTaskAsync(command.RequestId, second!.Claim, "task-second", Announcement("task-second"), CancellationToken.None);
        await Ledger.RecordEndedAsync(command.RequestId, null, CancellationToken.None);
        var givenUp = GenerationHarness.ValidCommand();
        await Ledger.AdmitAsync(givenUp, null, null, CancellationToken.None);
        var givenUpClaim = await TakeAsync();
        await Ledger.EndWithoutTaskAsync(givenUp.RequestId, givenUpClaim!.Claim, Rejected(Guid.Empty), CancellationToken.None);
        var afterEnd = await Ledger.RecordTaskAsync(givenUp.RequestId, givenUpClaim.Claim, "task-orphan", Announcement("task-orphan"), CancellationToken.None);

        Assert.False(staleRenew);
        Assert.False(stalePostpone);
        Assert.False(staleEnd);
        Assert.False(unclaimedEnd);
        Assert.Equal((TaskRecording.RecordedAfterClaimLost, (string?)null), late);
        Assert.Equal((TaskRecording.Duplicate, "task-late"), duplicate);
        Assert.Equal(TaskRecording.AfterEnd, afterEnd.Outcome);
        Assert.Equal(new LedgerEntry("task-late", true), await Ledger.FindAsync(command.RequestId, CancellationToken.None));
        // Each recorded task and each answered end committed its announcement with it; the duplicate and the orphan announced nothing.
        await AssertAnnouncedAsync("VideoGenerationSubmitted", "task-late", 1);
        await AssertAnnouncedAsync("VideoGenerationSubmitted", "task-second", 0);
        await AssertAnnouncedAsync("VideoGenerationSubmitted", "task-orphan", 0);
        await AssertAnnouncedAsync("VideoFailed", "Prompt: required", 1);
    }

    [Fact]
    public async Task Ending_every_waiting_request_spares_those_with_a_task_or_an_open_claim()
    {
        var commands = Enumerable.Range(0, 4).Select(_ => GenerationHarness.ValidCommand()).ToList();
        foreach (var command in commands)
        {
            await Ledger.AdmitAsync(command, null, null, CancellationToken.None);
        }

        var withTask = await TakeAsync();
        await Ledger.RecordTaskAsync(withTask!.Command.RequestId, withTask.Claim, "task-1", Announcement("task-1"), CancellationToken.None);
        var beingCreated = await TakeAsync();

        var tooRecent = await Ledger.EndAllWaitingAsync(Now.AddMinutes(-5), VideoFailureReason.Unauthorized, "key refused", CancellationToken.None);
        var ended = await Ledger.EndAllWaitingAsync(Now.AddMinutes(1), VideoFailureReason.Unauthorized, "key refused", CancellationToken.None);

        Assert.Empty(tooRecent);
        Assert.Equal(commands.Skip(2).Select(c => c.RequestId).Order(), ended.Order());
        Assert.False((await Ledger.FindAsync(beingCreated!.Command.RequestId, CancellationToken.None))!.Ended);
        Assert.False((await Ledger.FindAsync(withTask.Command.RequestId, CancellationToken.None))!.Ended);
    }

    [Fact]
    public async Task A_record_tells_the_queue_position_the_outcome_and_a_cancel_and_is_deleted_after_its_retention()
    {
        var commands = Enumerable.Range(0, 3).Select(_ => GenerationHarness.ValidCommand()).ToList();
        foreach (var command in commands)
        {
            await Ledger.AdmitAsync(command, null, null, CancellationToken.None);
        }

        var taken = await TakeAsync();
        await Ledger.RecordTaskAsync(taken!.Command.RequestId, taken.Claim, "task-1", Announcement("task-1"), CancellationToken.None);
        await Ledger.RecordProgressAsync(taken.Command.RequestId, "TASK_STATUS_PROCESSING", 40, 12, CancellationToken.None);
        var generating = await Ledger.GetRecordAsync(taken.Command.RequestId, CancellationToken.None);
        var second = await Ledger.GetRecordAsync(commands[1].RequestId, CancellationToken.None);
        var third = await Ledger.GetRecordAsync(commands[2].RequestId, CancellationToken.None);
        var cancel = await Ledger.CancelAsync(commands[1].RequestId, _ => new VideoFailed(commands[1].RequestId, null, VideoFailureReason.Cancelled, "cancelled"), CancellationToken.None);
        var thirdAfterCancel = await Ledger.GetRecordAsync(commands[2].RequestId, CancellationToken.None);
        var ready = new VideoReady(taken.Command.RequestId, "task-1", "https://cdn.example/1.mp4", DateTimeOffset.UtcNow.AddHours(1), "mp4", TimeSpan.FromMinutes(1));
        await Ledger.RecordEndedAsync(taken.Command.RequestId, JobOutcome.Of(ready), CancellationToken.None);
        var ended = await Ledger.GetRecordAsync(taken.Command.RequestId, CancellationToken.None);
        var notYet = await Ledger.DeleteEndedBeforeAsync(Now.AddMinutes(-1), CancellationToken.None);
        var deleted = await Ledger.DeleteEndedBeforeAsync(Now.AddMinutes(1), CancellationToken.None);

        Assert.Equal(("task-1", "TASK_STATUS_PROCESSING", 40, 12), (generating!.TaskId, generating.ProviderStatus, generating.ProgressPercent, generating.EtaSeconds));
        Assert.Equal((1, 2), (second!.QueuePosition, third!.QueuePosition));
        Assert.Equal(CancelEffect.EndedWaiting, cancel.Effect);
        Assert.Equal(1, thirdAfterCancel!.QueuePosition);
        Assert.Equal(ready, ended!.Outcome!.Ready);
        Assert.Equal(0, notYet);
        Assert.Equal(2, deleted);
        Assert.Null(await Ledger.GetRecordAsync(taken.Command.RequestId, CancellationToken.None));
        Assert.NotNull(await Ledger.GetRecordAsync(commands[2].RequestId, CancellationToken.None));
    }

    /// <summary>
    /// The queue position counts the requests that wait ahead, its own included: one being created or cancelled is not
    /// waiting, one postponed still is (it goes first once due).
    /// </summary>
    [Fact]
    public async Task The_queue_position_counts_only_the_requests_waiting_ahead()
    {
        var commands = Enumerable.Range(0, 5).Select(i => GenerationHarness.ValidCommand() with { Prompt = $"job {i}" }).ToList();
        foreach (var command in commands)
        {
            await Ledger.AdmitAsync(command, null, null, CancellationToken.None);
        }

        var postponed = await TakeAsync();
        await Ledger.PostponeAsync(commands[0].RequestId, postponed!.Claim, TimeSpan.FromHours(1), failedAttempt: true, CancellationToken.None);
        var creating = await TakeAsync();
        await Ledger.CancelAsync(commands[2].RequestId, _ => new VideoFailed(commands[2].RequestId, null, VideoFailureReason.Cancelled, "cancelled"), CancellationToken.None);
        var positions = new List<int?>();
        foreach (var command in commands)
        {
            positions.Add((await Ledger.GetRecordAsync(command.RequestId, CancellationToken.None))!.QueuePosition);
        }

        Assert.Equal("job 1", creating?.Command.Prompt);
        Assert.Equal([1, 1, null, 2, 3], positions);
        Assert.Equal(JobState.Creating, JobStatusView.From(commands[1].RequestId, await Ledger.GetRecordAsync(commands[1].RequestId, CancellationToken.None)).State);
    }

    /// <summary>
    /// A job cancelled while generating keeps being followed until the provider is done, then its record ends (and may
    /// end again, retried): the client's EndedAt stays the cancel's moment, the store's end is written once, and nothing
    /// of the provider's last "processing" report survives the cancel.
    /// </summary>
    [Fact]
    public async Task A_records_EndedAt_stays_put_through_a_cancel_and_later_ends()
    {
        var requestId = await GeneratingAsync("task-cancelled");
        await Ledger.RecordProgressAsync(requestId, KlingTaskStatus.Processing, 81, 20, CancellationToken.None);

        var cancel = await Ledger.CancelAsync(requestId, _ => new VideoFailed(requestId, null, VideoFailureReason.Cancelled, "cancelled"), CancellationToken.None);
        var cancelled = await Ledger.GetRecordAsync(requestId, CancellationToken.None);
        var afterCancel = JobStatusView.From(requestId, cancelled);
        await PassAsync(TimeSpan.FromMilliseconds(25));
        var toldCancelled = await Ledger.RecordProgressAsync(requestId, KlingTaskStatus.Processing, 90, 5, CancellationToken.None);
        await Ledger.RecordEndedAsync(requestId, Failed(requestId, VideoFailureReason.TimedOut), CancellationToken.None);
        var ended = await Ledger.GetRecordAsync(requestId, CancellationToken.None);
        var afterEnd = JobStatusView.From(requestId, ended);
        await PassAsync(TimeSpan.FromMilliseconds(25));
        await Ledger.RecordEndedAsync(requestId, Failed(requestId, VideoFailureReason.TimedOut), CancellationToken.None);
        var endedAgain = await Ledger.GetRecordAsync(requestId, CancellationToken.None);

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
    [Fact]
    public async Task A_cancel_that_overtakes_its_command_is_remembered()
    {
        var command = GenerationHarness.ValidCommand();
        var requestId = command.RequestId;

        var cancel = await Ledger.CancelAsync(requestId, effect => new VideoFailed(requestId, null, VideoFailureReason.Cancelled, $"cancelled: {effect}"), CancellationToken.None);
        var admission = await Ledger.AdmitAsync(command, null, null, CancellationToken.None);
        var offered = await Ledger.TakeNextAsync(10, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(3), CancellationToken.None);
        var again = await Ledger.CancelAsync(requestId, effect => new VideoFailed(requestId, null, VideoFailureReason.Cancelled, $"cancelled: {effect}"), CancellationToken.None);
        var status = JobStatusView.From(requestId, await Ledger.GetRecordAsync(requestId, CancellationToken.None));

        Assert.Equal(CancelEffect.CancelledBeforeArrival, cancel.Effect);
        Assert.Equal(AdmissionStatus.Ended, admission.Status);
        Assert.True(offered is null || offered.Command.RequestId != requestId, "The cancelled request was offered for a create.");
        Assert.Equal(CancelEffect.None, again.Effect);
        Assert.Equal(JobState.Cancelled, status.State);
        Assert.Equal($"cancelled: {CancelEffect.CancelledBeforeArrival}", status.Message);
        Assert.NotNull(status.EndedAt);
    }

    /// <summary>
    /// A request past its start-by moment is never offered for a create, whatever slots are free; the sweep ends it as
    /// StartByPassed and spares the request that is being created, the one that waits with time left and the one without a
    /// bound. The status shows the moment a waiting request gives up.
    /// </summary>
    [Fact]
    public async Task A_request_past_its_StartBy_is_never_offered_and_ends_StartByPassed()
    {
        var past = GenerationHarness.ValidCommand() with { Prompt = "past" };
        var creating = GenerationHarness.ValidCommand() with { Prompt = "being created" };
        var later = GenerationHarness.ValidCommand() with { Prompt = "time left" };
        var unbounded = GenerationHarness.ValidCommand() with { Prompt = "no bound" };
        // Older first: the past request would be next in line if its bound did not hold.
        await Ledger.AdmitAsync(past, null, Now.AddSeconds(-1), CancellationToken.None);
        await Ledger.AdmitAsync(creating, null, Now.AddHours(1), CancellationToken.None);
        await Ledger.AdmitAsync(later, null, Now.AddHours(1), CancellationToken.None);
        await Ledger.AdmitAsync(unbounded, null, null, CancellationToken.None);

        var taken = await Ledger.TakeNextAsync(10, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(3), CancellationToken.None);
        var laterStatus = JobStatusView.From(later.RequestId, await Ledger.GetRecordAsync(later.RequestId, CancellationToken.None));
        var ended = await Ledger.EndPastStartByAsync(Now, "waited too long", CancellationToken.None);
        var pastStatus = JobStatusView.From(past.RequestId, await Ledger.GetRecordAsync(past.RequestId, CancellationToken.None));
        var again = await Ledger.EndPastStartByAsync(Now, "waited too long", CancellationToken.None);

        Assert.Equal(creating.RequestId, taken?.Command.RequestId);
        Assert.Equal(past.RequestId, Assert.Single(ended));
        Assert.Empty(again);
        Assert.Equal((JobState.Failed, VideoFailureReason.StartByPassed, "waited too long"), (pastStatus.State, pastStatus.Reason, pastStatus.Message));
        Assert.Equal(JobState.Waiting, laterStatus.State);
        Assert.NotNull(laterStatus.StartBy);
        Assert.InRange(laterStatus.StartBy!.Value, Now.AddMinutes(59), Now.AddHours(1));
        foreach (var spared in new[] { creating, later, unbounded })
        {
            Assert.False((await Ledger.FindAsync(spared.RequestId, CancellationToken.None))!.Ended, spared.Prompt);
        }

        var next = await Ledger.TakeNextAsync(10, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(3), CancellationToken.None);
        Assert.Equal(later.RequestId, next?.Command.RequestId);
    }

    /// <summary>
    /// A succeeded job reads as the provider's final status at 100 %, whether its video was stored (the finished task
    /// recorded its status, and a late check must not overwrite it) or delivered right after a check that saw it processing.
    /// </summary>
    [Fact]
    public async Task A_succeeded_job_shows_the_final_status()
    {
        var stored = await GeneratingAsync("task-stored");
        await Ledger.RecordProgressAsync(stored, KlingTaskStatus.Processing, 82, 10, CancellationToken.None);
        await Ledger.RecordTaskFinishedAsync(stored, KlingTaskStatus.Succeed, CancellationToken.None);
        await Ledger.RecordProgressAsync(stored, KlingTaskStatus.Processing, 82, 10, CancellationToken.None);
        var finished = await Ledger.GetRecordAsync(stored, CancellationToken.None);
        await Ledger.RecordEndedAsync(stored, Ready(stored, "task-stored"), CancellationToken.None);
        var storedStatus = JobStatusView.From(stored, await Ledger.GetRecordAsync(stored, CancellationToken.None));

        var delivered = await GeneratingAsync("task-delivered");
        await Ledger.RecordProgressAsync(delivered, KlingTaskStatus.Processing, 82, 10, CancellationToken.None);
        await Ledger.RecordEndedAsync(delivered, Ready(delivered, "task-delivered"), CancellationToken.None);
        var deliveredStatus = JobStatusView.From(delivered, await Ledger.GetRecordAsync(delivered, CancellationToken.None));

        Assert.Equal((KlingTaskStatus.Succeed, 100, null), (finished!.ProviderStatus, finished.ProgressPercent, finished.EtaSeconds));
        foreach (var status in new[] { storedStatus, deliveredStatus })
        {
            Assert.Equal(
                (JobState.Succeeded, KlingTaskStatus.Succeed, 100, null),
                (status.State, status.ProviderStatus, status.ProgressPercent, status.EtaSeconds));
        }
    }

    [Fact]
    public async Task A_postponed_request_waits_out_its_delay_and_counts_only_failed_attempts()
    {
        var command = GenerationHarness.ValidCommand();
        await Ledger.AdmitAsync(command, null, null, CancellationToken.None);

        var first = await TakeAsync();
        await Ledger.PostponeAsync(command.RequestId, first!.Claim, TimeSpan.FromMilliseconds(300), failedAttempt: true, CancellationToken.None);
        var tooEarly = await TakeAsync();
        await PassAsync(TimeSpan.FromMilliseconds(400));
        var afterFailure = await TakeAsync();
        await Ledger.PostponeAsync(command.RequestId, afterFailure!.Claim, TimeSpan.Zero, failedAttempt: false, CancellationToken.None);
        var afterBusy = await TakeAsync();

        Assert.Null(tooEarly);
        Assert.Equal(1, afterFailure?.FailedAttempts);
        Assert.Equal(1, afterBusy?.FailedAttempts);
    }

    protected static VideoFailed Rejected(Guid requestId) => new(requestId, null, VideoFailureReason.InvalidRequest, "Prompt: required");

    protected static VideoGenerationSubmitted Announcement(string taskId) => new(Guid.NewGuid(), taskId, DateTimeOffset.UtcNow, VideoMode.Standard, 5);

    /// <summary>The next request, with room for five at once, a minute's lease and five minutes' grace.</summary>
    private Task<PendingCreate?> TakeAsync() => Ledger.TakeNextAsync(5, Minute, Grace, CancellationToken.None).AsTask();

    private async Task<Guid> GeneratingAsync(string taskId)
    {
        var command = GenerationHarness.ValidCommand();
        await Ledger.AdmitAsync(command, null, null, CancellationToken.None);
        var taken = await Ledger.TakeNextAsync(100, Minute, Grace, CancellationToken.None);
        Assert.Equal(command.RequestId, taken?.Command.RequestId);
        var announcement = new VideoGenerationSubmitted(command.RequestId, taskId, DateTimeOffset.UtcNow, VideoMode.Standard, 5);
        var (recorded, _) = await Ledger.RecordTaskAsync(command.RequestId, taken!.Claim, taskId, announcement, CancellationToken.None);
        Assert.Equal(TaskRecording.Recorded, recorded);
        return command.RequestId;
    }

    private static JobOutcome Failed(Guid requestId, VideoFailureReason reason) => JobOutcome.Of(new VideoFailed(requestId, null, reason, "detail"));

    private static JobOutcome Ready(Guid requestId, string taskId) => JobOutcome.Of(new VideoReady(
        requestId, taskId, "https://cdn.example/v.mp4", DateTimeOffset.UtcNow.AddHours(1), "mp4", TimeSpan.FromMinutes(1)));
}
