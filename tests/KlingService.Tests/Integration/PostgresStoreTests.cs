using Microsoft.Extensions.DependencyInjection;
using MassTransit;
using KlingService.Outbox;
using KlingService.Contracts;
using System.Collections.Concurrent;
using KlingService.Generation;
using KlingService.Persistence;
using KlingService.Scheduling;
using KlingService.Tests.Fixtures;
using Npgsql;

namespace KlingService.Tests.Integration;

/// <summary>The PostgreSQL stores under concurrent use, on a real server.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class PostgresStoreTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    private NpgsqlDataSource _database = null!;

    public async Task InitializeAsync()
    {
        var environment = await infrastructure.CreateEnvironmentAsync();
        _database = NpgsqlDataSource.Create(environment.Postgres);
        await PostgresSchema.EnsureCreatedAsync(_database, CancellationToken.None);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    // A bus that is never started: it only lends its topology (publish addresses) to the outbox rows.
    private static readonly IServiceProvider UnstartedBus = new ServiceCollection().AddMassTransit(bus => bus.UsingInMemory()).BuildServiceProvider();

    private PostgresRequestLedger NewLedger() => new(_database, new LauncherSignal(), new OutboxPublisher(UnstartedBus), new OutboxSignal());

    [Fact]
    public async Task Creating_the_schema_again_changes_nothing() =>
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => PostgresSchema.EnsureCreatedAsync(_database, CancellationToken.None)));

    [Fact]
    public async Task A_second_message_for_a_job_waits_for_the_first_and_sees_its_changes()
    {
        var job = await InsertJobAsync();
        await using var first = await SagaSession.BeginAsync(_database, CancellationToken.None);
        var firstView = (await first.LoadAsync(job.CorrelationId, forUpdate: true, CancellationToken.None))!;

        var second = Task.Run(async () =>
        {
            await using var session = await SagaSession.BeginAsync(_database, CancellationToken.None);
            return await session.LoadAsync(job.CorrelationId, forUpdate: true, CancellationToken.None);
        });
        var blocked = await Task.WhenAny(second, Task.Delay(TimeSpan.FromMilliseconds(500))) != second;

        firstView.ChecksMade = 7;
        await first.UpdateAsync(firstView, CancellationToken.None);
        await first.CommitAsync(CancellationToken.None);
        var secondView = await second;

        Assert.True(blocked, "The second load did not wait for the first transaction.");
        Assert.Equal((7, 2), (secondView!.ChecksMade, secondView.Version));
    }

    [Fact]
    public async Task A_write_based_on_a_stale_version_is_refused()
    {
        var job = await InsertJobAsync();
        await using (var winner = await SagaSession.BeginAsync(_database, CancellationToken.None))
        {
            var current = (await winner.LoadAsync(job.CorrelationId, forUpdate: true, CancellationToken.None))!;
            await winner.UpdateAsync(current, CancellationToken.None);
            await winner.CommitAsync(CancellationToken.None);
        }

        await using var loser = await SagaSession.BeginAsync(_database, CancellationToken.None);
        await Assert.ThrowsAsync<SagaConcurrencyException>(() => loser.UpdateAsync(job, CancellationToken.None));
    }

    [Fact]
    public async Task A_twin_saga_for_the_same_task_is_not_inserted()
    {
        var job = await InsertJobAsync();

        await using var session = await SagaSession.BeginAsync(_database, CancellationToken.None);
        var inserted = await session.InsertAsync(NewJob(job.TaskId), CancellationToken.None);

        Assert.False(inserted);
    }

    [Fact]
    public async Task Only_one_of_many_concurrent_admissions_of_a_request_wins()
    {
        var ledger = NewLedger();
        var command = GenerationHarness.ValidCommand();

        var admissions = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            ledger.AdmitAsync(command, null, null, CancellationToken.None).AsTask()));

        Assert.Single(admissions, a => a.Status == AdmissionStatus.Admitted);
        Assert.All(admissions.Where(a => a.Status != AdmissionStatus.Admitted), a => Assert.Equal(AdmissionStatus.Waiting, a.Status));
    }

    [Fact]
    public async Task The_ledger_remembers_each_stage_of_a_request()
    {
        var ledger = NewLedger();
        var command = GenerationHarness.ValidCommand();

        var first = await ledger.AdmitAsync(command, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", null, CancellationToken.None);
        var taken = await ledger.TakeNextAsync(5, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), CancellationToken.None);
        var whileCreating = await ledger.AdmitAsync(command, null, null, CancellationToken.None);
        await ledger.RecordTaskAsync(command.RequestId, taken!.Claim, "task-9", Announcement("task-9"), CancellationToken.None);
        var afterTask = await ledger.AdmitAsync(command, null, null, CancellationToken.None);
        var rejectedRepeat = await ledger.RecordRejectedAsync(Rejected(command.RequestId), CancellationToken.None);
        await ledger.RecordEndedAsync(command.RequestId, null, CancellationToken.None);
        var afterEnd = await ledger.AdmitAsync(command, null, null, CancellationToken.None);

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
        var ledger = NewLedger();
        var requestId = Guid.NewGuid();

        var first = await ledger.RecordRejectedAsync(Rejected(requestId), CancellationToken.None);
        var repeat = await ledger.RecordRejectedAsync(Rejected(requestId), CancellationToken.None);

        Assert.True(first);
        Assert.False(repeat);
        Assert.Null(await ledger.TakeNextAsync(5, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), CancellationToken.None));
    }

    [Fact]
    public async Task A_lapsed_claim_holds_its_slot_and_is_taken_again_only_as_abandoned_after_the_grace()
    {
        var ledger = NewLedger();
        var command = GenerationHarness.ValidCommand();
        var other = GenerationHarness.ValidCommand();
        await ledger.AdmitAsync(command, null, null, CancellationToken.None);
        await ledger.AdmitAsync(other, null, null, CancellationToken.None);

        var crashed = await ledger.TakeNextAsync(1, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(300), CancellationToken.None);
        await Task.Delay(50);
        // Lapsed, but a call made under it may still be running: nothing is taken, not even the other request (the slot is held).
        var withinGrace = await ledger.TakeNextAsync(1, TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(300), CancellationToken.None);
        await Task.Delay(400);
        var takeover = await ledger.TakeNextAsync(1, TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(300), CancellationToken.None);

        Assert.Equal(command.RequestId, crashed?.Command.RequestId);
        Assert.False(crashed?.Abandoned);
        Assert.Null(withinGrace);
        Assert.Equal(command.RequestId, takeover?.Command.RequestId);
        Assert.True(takeover?.Abandoned);
        Assert.NotEqual(crashed!.Claim, takeover!.Claim);
    }

    [Fact]
    public async Task Writes_under_a_lost_claim_change_nothing_and_a_late_task_is_still_recorded_or_reported()
    {
        var ledger = NewLedger();
        var command = GenerationHarness.ValidCommand();
        await ledger.AdmitAsync(command, null, null, CancellationToken.None);
        var first = await ledger.TakeNextAsync(5, TimeSpan.FromMilliseconds(1), TimeSpan.Zero, CancellationToken.None);
        await Task.Delay(20);
        var second = await ledger.TakeNextAsync(5, TimeSpan.FromMinutes(1), TimeSpan.Zero, CancellationToken.None);

        var staleRenew = await ledger.RenewAsync(command.RequestId, first!.Claim, TimeSpan.FromMinutes(1), CancellationToken.None);
        var stalePostpone = await ledger.PostponeAsync(command.RequestId, first.Claim, TimeSpan.Zero, failedAttempt: true, CancellationToken.None);
        var staleEnd = await ledger.EndWithoutTaskAsync(command.RequestId, first.Claim, Rejected(Guid.Empty), CancellationToken.None);
        var unclaimedEnd = await ledger.EndWithoutTaskAsync(command.RequestId, claim: null, Rejected(Guid.Empty), CancellationToken.None);
        // The first holder's call comes back late: the request has no task yet, so it is recorded all the same.
        var late = await ledger.RecordTaskAsync(command.RequestId, first.Claim, "task-late", Announcement("task-late"), CancellationToken.None);
        // The second holder's call made a second task: a duplicate charge, reported with the first task's id.
        var duplicate = await ledger.RecordTaskAsync(command.RequestId, second!.Claim, "task-second", Announcement("task-second"), CancellationToken.None);
        await ledger.RecordEndedAsync(command.RequestId, null, CancellationToken.None);
        var givenUp = GenerationHarness.ValidCommand();
        await ledger.AdmitAsync(givenUp, null, null, CancellationToken.None);
        var givenUpClaim = await ledger.TakeNextAsync(5, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), CancellationToken.None);
        await ledger.EndWithoutTaskAsync(givenUp.RequestId, givenUpClaim!.Claim, Rejected(Guid.Empty), CancellationToken.None);
        var afterEnd = await ledger.RecordTaskAsync(givenUp.RequestId, givenUpClaim.Claim, "task-orphan", Announcement("task-orphan"), CancellationToken.None);

        Assert.False(staleRenew);
        Assert.False(stalePostpone);
        Assert.False(staleEnd);
        Assert.False(unclaimedEnd);
        Assert.Equal((TaskRecording.RecordedAfterClaimLost, (string?)null), late);
        Assert.Equal((TaskRecording.Duplicate, "task-late"), duplicate);
        Assert.Equal(TaskRecording.AfterEnd, afterEnd.Outcome);
        Assert.Equal(new LedgerEntry("task-late", true), await ledger.FindAsync(command.RequestId, CancellationToken.None));
        // Each recorded task and each answered end committed its announcement with it; the duplicate and the orphan announced nothing.
        Assert.Equal(1, await CountOutboxAsync("VideoGenerationSubmitted", "task-late"));
        Assert.Equal(0, await CountOutboxAsync("VideoGenerationSubmitted", "task-second"));
        Assert.Equal(0, await CountOutboxAsync("VideoGenerationSubmitted", "task-orphan"));
        Assert.Equal(1, await CountOutboxAsync("VideoFailed", "Prompt: required"));
    }

    [Fact]
    public async Task Ending_every_waiting_request_spares_those_with_a_task_or_an_open_claim()
    {
        var ledger = NewLedger();
        var commands = Enumerable.Range(0, 4).Select(_ => GenerationHarness.ValidCommand()).ToList();
        foreach (var command in commands)
        {
            await ledger.AdmitAsync(command, null, null, CancellationToken.None);
        }

        var withTask = await ledger.TakeNextAsync(5, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), CancellationToken.None);
        await ledger.RecordTaskAsync(withTask!.Command.RequestId, withTask.Claim, "task-1", Announcement("task-1"), CancellationToken.None);
        var beingCreated = await ledger.TakeNextAsync(5, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), CancellationToken.None);

        var tooRecent = await ledger.EndAllWaitingAsync(DateTimeOffset.UtcNow.AddMinutes(-5), VideoFailureReason.Unauthorized, "key refused", CancellationToken.None);
        var ended = await ledger.EndAllWaitingAsync(DateTimeOffset.UtcNow.AddMinutes(1), VideoFailureReason.Unauthorized, "key refused", CancellationToken.None);

        Assert.Empty(tooRecent);
        Assert.Equal(commands.Skip(2).Select(c => c.RequestId).Order(), ended.Order());
        Assert.False((await ledger.FindAsync(beingCreated!.Command.RequestId, CancellationToken.None))!.Ended);
        Assert.False((await ledger.FindAsync(withTask.Command.RequestId, CancellationToken.None))!.Ended);
    }

    [Fact]
    public async Task A_record_tells_the_queue_position_the_outcome_and_a_cancel_and_is_deleted_after_its_retention()
    {
        var ledger = NewLedger();
        var commands = Enumerable.Range(0, 3).Select(_ => GenerationHarness.ValidCommand()).ToList();
        foreach (var command in commands)
        {
            await ledger.AdmitAsync(command, null, null, CancellationToken.None);
        }

        var taken = await ledger.TakeNextAsync(5, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), CancellationToken.None);
        await ledger.RecordTaskAsync(taken!.Command.RequestId, taken.Claim, "task-1", Announcement("task-1"), CancellationToken.None);
        await ledger.RecordProgressAsync(taken.Command.RequestId, "TASK_STATUS_PROCESSING", 40, 12, CancellationToken.None);
        var generating = await ledger.GetRecordAsync(taken.Command.RequestId, CancellationToken.None);
        var second = await ledger.GetRecordAsync(commands[1].RequestId, CancellationToken.None);
        var third = await ledger.GetRecordAsync(commands[2].RequestId, CancellationToken.None);
        var cancel = await ledger.CancelAsync(commands[1].RequestId, _ => new VideoFailed(commands[1].RequestId, null, VideoFailureReason.Cancelled, "cancelled"), CancellationToken.None);
        var thirdAfterCancel = await ledger.GetRecordAsync(commands[2].RequestId, CancellationToken.None);
        var ready = new VideoReady(taken.Command.RequestId, "task-1", "https://cdn.example/1.mp4", DateTimeOffset.UtcNow.AddHours(1), "mp4", TimeSpan.FromMinutes(1));
        await ledger.RecordEndedAsync(taken.Command.RequestId, JobOutcome.Of(ready), CancellationToken.None);
        var ended = await ledger.GetRecordAsync(taken.Command.RequestId, CancellationToken.None);
        var notYet = await ledger.DeleteEndedBeforeAsync(DateTimeOffset.UtcNow.AddMinutes(-1), CancellationToken.None);
        var deleted = await ledger.DeleteEndedBeforeAsync(DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None);

        Assert.Equal(("task-1", "TASK_STATUS_PROCESSING", 40, 12), (generating!.TaskId, generating.ProviderStatus, generating.ProgressPercent, generating.EtaSeconds));
        Assert.Equal((1, 2), (second!.QueuePosition, third!.QueuePosition));
        Assert.Equal(CancelEffect.EndedWaiting, cancel.Effect);
        Assert.Equal(1, thirdAfterCancel!.QueuePosition);
        Assert.Equal(ready, ended!.Outcome!.Ready);
        Assert.Equal(0, notYet);
        Assert.Equal(2, deleted);
        Assert.Null(await ledger.GetRecordAsync(taken.Command.RequestId, CancellationToken.None));
        Assert.NotNull(await ledger.GetRecordAsync(commands[2].RequestId, CancellationToken.None));
    }

    // now() moves between the scenario's transactions on its own: nothing to advance.
    [Fact]
    public Task A_records_ended_at_stays_put_through_a_cancel_and_later_ends() =>
        LedgerRecordScenarios.EndedAtStaysPutThroughACancelAndLaterEndsAsync(NewLedger(), _ => { });

    [Fact]
    public Task A_cancel_that_overtakes_its_command_is_remembered() =>
        LedgerRecordScenarios.ACancelThatOvertakesItsCommandIsRememberedAsync(NewLedger());

    [Fact]
    public Task A_request_past_its_StartBy_is_never_offered_and_ends_StartByPassed() =>
        LedgerRecordScenarios.ARequestPastItsStartByIsNeverOfferedAndEndsStartByPassedAsync(NewLedger(), () => DateTimeOffset.UtcNow);

    [Fact]
    public Task A_succeeded_job_shows_the_final_status() =>
        LedgerRecordScenarios.ASucceededJobShowsTheFinalStatusAsync(NewLedger());

    [Fact]
    public async Task Concurrent_takers_never_hold_more_slots_than_the_cap_and_take_the_oldest_first()
    {
        var ledger = NewLedger();
        var commands = Enumerable.Range(0, 30).Select(i => GenerationHarness.ValidCommand() with { Prompt = $"job {i}" }).ToList();
        foreach (var command in commands)
        {
            await ledger.AdmitAsync(command, null, null, CancellationToken.None);
        }

        var taken = new ConcurrentBag<PendingCreate>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            for (var i = 0; i < 10; i++)
            {
                if (await ledger.TakeNextAsync(5, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), CancellationToken.None) is { } next)
                {
                    taken.Add(next);
                }
            }
        }));
        var firstFive = taken.Select(t => t.Command.Prompt).Order().ToList();
        await ledger.RecordTaskAsync(commands[0].RequestId, taken.Single(t => t.Command.RequestId == commands[0].RequestId).Claim, "task-0", Announcement("task-0"), CancellationToken.None);
        var stillFull = await ledger.TakeNextAsync(5, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), CancellationToken.None);
        await ledger.RecordEndedAsync(commands[0].RequestId, null, CancellationToken.None);
        var afterRelease = await ledger.TakeNextAsync(5, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), CancellationToken.None);

        Assert.Equal(commands.Take(5).Select(c => c.Prompt).Order(), firstFive);
        Assert.Null(stillFull);
        Assert.Equal("job 5", afterRelease?.Command.Prompt);
    }

    [Fact]
    public async Task A_postponed_request_waits_out_its_delay_and_counts_only_failed_attempts()
    {
        var ledger = NewLedger();
        var command = GenerationHarness.ValidCommand();
        await ledger.AdmitAsync(command, null, null, CancellationToken.None);

        var first = await ledger.TakeNextAsync(5, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), CancellationToken.None);
        await ledger.PostponeAsync(command.RequestId, first!.Claim, TimeSpan.FromMilliseconds(300), failedAttempt: true, CancellationToken.None);
        var tooEarly = await ledger.TakeNextAsync(5, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), CancellationToken.None);
        await Task.Delay(400);
        var afterFailure = await ledger.TakeNextAsync(5, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), CancellationToken.None);
        await ledger.PostponeAsync(command.RequestId, afterFailure!.Claim, TimeSpan.Zero, failedAttempt: false, CancellationToken.None);
        var afterBusy = await ledger.TakeNextAsync(5, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), CancellationToken.None);

        Assert.Null(tooEarly);
        Assert.Equal(1, afterFailure?.FailedAttempts);
        Assert.Equal(1, afterBusy?.FailedAttempts);
    }

    [Fact]
    public async Task Two_dispatchers_send_each_due_message_exactly_once_and_leave_future_ones()
    {
        var store = new ScheduledMessageStore(_database);
        var due = Enumerable.Range(0, 300).Select(_ => Guid.NewGuid()).ToList();
        foreach (var token in due)
        {
            await store.SaveAsync(Row(token, DateTimeOffset.UtcNow.AddSeconds(-1)), CancellationToken.None);
        }

        var future = Guid.NewGuid();
        await store.SaveAsync(Row(future, DateTimeOffset.UtcNow.AddHours(1)), CancellationToken.None);

        var sent = new ConcurrentQueue<Guid>();
        async Task Dispatcher()
        {
            while ((await store.DispatchDueAsync(25, async row => { sent.Enqueue(row.TokenId); await Task.Yield(); }, CancellationToken.None)).Sent > 0)
            {
            }
        }

        await Task.WhenAll(Dispatcher(), Dispatcher());

        Assert.Equal(due.Order(), sent.Order());
        Assert.DoesNotContain(future, sent);
    }

    [Fact]
    public async Task A_cancelled_message_is_never_sent()
    {
        var store = new ScheduledMessageStore(_database);
        var token = Guid.NewGuid();
        await store.SaveAsync(Row(token, DateTimeOffset.UtcNow.AddSeconds(-1)), CancellationToken.None);

        await store.CancelAsync(token, CancellationToken.None);
        var sent = await store.DispatchDueAsync(10, _ => Task.CompletedTask, CancellationToken.None);

        Assert.Equal(0, sent.Sent);
    }

    private static ScheduledMessageRow Row(Guid token, DateTimeOffset dueAt) =>
        new(token, dueAt, new Uri("queue:somewhere"), "urn:message:KlingService.Generation:CheckVideoStatus", "{}", """{"headers":{}}""");

    private static VideoJobState NewJob(string taskId) => new()
    {
        CorrelationId = TaskCorrelation.FromTaskId(taskId),
        TaskId = taskId,
        RequestId = Guid.NewGuid(),
        CurrentState = "Generating",
    };

    private async Task<VideoJobState> InsertJobAsync()
    {
        var job = NewJob($"task-{Guid.NewGuid():N}");
        await using var session = await SagaSession.BeginAsync(_database, CancellationToken.None);
        Assert.True(await session.InsertAsync(job, CancellationToken.None));
        await session.CommitAsync(CancellationToken.None);
        return job;
    }

    private static VideoFailed Rejected(Guid requestId) => new(requestId, null, VideoFailureReason.InvalidRequest, "Prompt: required");

    private static VideoGenerationSubmitted Announcement(string taskId) => new(Guid.NewGuid(), taskId, DateTimeOffset.UtcNow, VideoMode.Standard, 5);

    private async Task<long> CountOutboxAsync(string type, string containing)
    {
        await using var command = _database.CreateCommand($"""
            SELECT count(*) FROM {PostgresSchema.ScheduledMessages}
            WHERE message_type = 'urn:message:KlingService.Contracts:{type}' AND message_id = token_id AND body::text LIKE '%' || @containing || '%'
            """);
        command.Parameters.AddWithValue("containing", containing);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
