using KlingService.Contracts;
using KlingService.Kling;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Jobs;

/// <summary>"What happened to my request?": the status query in each state, cancel in each state, replay and retention.</summary>
public sealed class JobRecordTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task The_status_query_follows_a_job_from_waiting_to_ready_with_its_queue_position_under_a_full_cap()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?> { ["Kling:MaxConcurrentTasks"] = "1" });
        var finished = false;
        service.Kling.OnStatus = (id, _) => Volatile.Read(ref finished) ? FakeKlingApi.Succeeded(id) : FakeKlingApi.Processing(id, 40, eta: 25);
        var commands = Enumerable.Range(0, 3).Select(i => GenerationHarness.ValidCommand() with { Prompt = $"job {i}" }).ToList();
        var unknown = await service.StatusAsync(commands[0].RequestId);
        await service.SendAsync(commands[0]);
        await service.PublishedAsync<VideoGenerationSubmitted>();
        await service.SendAsync(commands[1]);
        await service.SendAsync(commands[2]);
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(20));

        var generating = await service.StatusAsync(commands[0].RequestId);
        var second = await service.StatusAsync(commands[1].RequestId);
        var third = await service.StatusAsync(commands[2].RequestId);
        Volatile.Write(ref finished, true);
        var ready = await service.AdvanceUntilPublishedAsync<VideoReady>(Step, filter: r => r.RequestId == commands[0].RequestId);
        var succeeded = await service.StatusAsync(commands[0].RequestId);

        Assert.Equal(JobState.Unknown, unknown.State);
        Assert.Equal((JobState.Generating, "task-1", KlingTaskStatus.Processing, 40, 25), (generating.State, generating.TaskId, generating.ProviderStatus, generating.ProgressPercent, generating.EtaSeconds));
        Assert.NotNull(generating.SubmittedAt);
        Assert.Equal((JobState.Waiting, 1), (second.State, second.QueuePosition));
        Assert.Equal((JobState.Waiting, 2), (third.State, third.QueuePosition));
        Assert.Equal((JobState.Succeeded, ready.VideoUrl, ready.VideoUrlExpiresAt), (succeeded.State, succeeded.VideoUrl, succeeded.VideoUrlExpiresAt));
        Assert.NotNull(succeeded.EndedAt);
        Assert.Null(succeeded.QueuePosition);
    }

    [Fact]
    public async Task The_status_query_says_a_task_is_being_created_and_why_a_job_failed()
    {
        await using var service = await GenerationHarness.StartAsync();
        var answer = new TaskCompletionSource<CreateTaskResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Kling.OnCreate = (_, _) => answer.Task;
        service.Kling.ScriptStatuses(id => FakeKlingApi.Failed(id, "content policy violation"));
        var command = GenerationHarness.ValidCommand();

        await service.SendAsync(command);
        while (service.Kling.CreateAttempts == 0)
        {
            await Task.Delay(10);
        }

        var creating = await service.StatusAsync(command.RequestId);
        answer.SetResult(new CreateTaskResponse("task-9"));
        await service.EventuallyPublishedAsync<VideoGenerationSubmitted>();
        await service.AdvanceUntilPublishedAsync<VideoFailed>(Step);
        var failed = await service.StatusAsync(command.RequestId);

        Assert.Equal(JobState.Creating, creating.State);
        Assert.Equal((JobState.Failed, "task-9", VideoFailureReason.GenerationFailed, "content policy violation"), (failed.State, failed.TaskId, failed.Reason, failed.Message));
    }

    [Fact]
    public async Task An_ended_job_reads_as_the_providers_final_word_not_its_last_progress_report()
    {
        await using var service = await GenerationHarness.StartAsync();
        var finished = false;
        string? failingTask = null;
        service.Kling.OnStatus = (id, _) => !Volatile.Read(ref finished) ? FakeKlingApi.Processing(id, 82, eta: 10)
            : id == failingTask ? FakeKlingApi.Failed(id, "content policy violation")
            : FakeKlingApi.Succeeded(id);
        var succeeding = GenerationHarness.ValidCommand() with { Prompt = "succeeds" };
        var failing = GenerationHarness.ValidCommand() with { Prompt = "fails" };
        await service.SendAsync(succeeding);
        await service.SendAsync(failing);
        failingTask = (await service.PublishedAsync<VideoGenerationSubmitted>(s => s.RequestId == failing.RequestId)).TaskId;
        await service.PublishedAsync<VideoGenerationSubmitted>(s => s.RequestId == succeeding.RequestId);
        await service.AdvanceUntilPublishedAsync<VideoGenerationProgressed>(Step, filter: p => p.RequestId == succeeding.RequestId);
        await service.AdvanceUntilPublishedAsync<VideoGenerationProgressed>(Step, filter: p => p.RequestId == failing.RequestId);
        var generating = await service.StatusAsync(succeeding.RequestId);

        Volatile.Write(ref finished, true);
        await service.AdvanceUntilPublishedAsync<VideoReady>(Step, filter: r => r.RequestId == succeeding.RequestId);
        await service.AdvanceUntilPublishedAsync<VideoFailed>(Step, filter: f => f.RequestId == failing.RequestId);
        var succeeded = await service.StatusAsync(succeeding.RequestId);
        var failed = await service.StatusAsync(failing.RequestId);

        Assert.Equal((JobState.Generating, KlingTaskStatus.Processing, 82, 10), (generating.State, generating.ProviderStatus, generating.ProgressPercent, generating.EtaSeconds));
        Assert.Equal((JobState.Succeeded, KlingTaskStatus.Succeed, 100, null), (succeeded.State, succeeded.ProviderStatus, succeeded.ProgressPercent, succeeded.EtaSeconds));
        Assert.Equal((JobState.Failed, KlingTaskStatus.Failed, null, null), (failed.State, failed.ProviderStatus, failed.ProgressPercent, failed.EtaSeconds));
    }

    [Fact]
    public async Task Cancelling_a_waiting_job_ends_it_at_once_and_it_is_never_created()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?> { ["Kling:MaxConcurrentTasks"] = "1" });
        service.Kling.ScriptStatuses(id => FakeKlingApi.Processing(id, 50, eta: 20), id => FakeKlingApi.Succeeded(id));
        var running = GenerationHarness.ValidCommand() with { Prompt = "running" };
        var waiting = GenerationHarness.ValidCommand() with { Prompt = "waiting" };
        await service.SendAsync(running);
        await service.PublishedAsync<VideoGenerationSubmitted>();
        await service.SendAsync(waiting);
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(1));

        await service.Harness.Bus.Publish(new CancelVideoGeneration(waiting.RequestId));
        var cancelled = await service.EventuallyPublishedAsync<VideoFailed>(f => f.RequestId == waiting.RequestId);
        await service.AdvanceUntilPublishedAsync<VideoReady>(Step);
        await service.AdvanceAndSettleAsync(TimeSpan.FromMinutes(1));
        var status = await service.StatusAsync(waiting.RequestId);

        Assert.Equal(VideoFailureReason.Cancelled, cancelled.Reason);
        Assert.Contains("nothing was spent", cancelled.Message, StringComparison.Ordinal);
        Assert.Equal(["running"], service.Kling.CreatedTasks.Select(t => t.Prompt));
        Assert.Equal(JobState.Cancelled, status.State);
    }

    [Fact]
    public async Task Cancelling_a_generating_job_answers_at_once_delivers_nothing_later_and_keeps_its_slot_until_the_provider_is_done()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?> { ["Kling:MaxConcurrentTasks"] = "1" });
        var finished = false;
        service.Kling.OnStatus = (id, _) => Volatile.Read(ref finished) ? FakeKlingApi.Succeeded(id) : FakeKlingApi.Processing(id, 30, eta: 30);
        var cancelled = GenerationHarness.ValidCommand() with { Prompt = "cancelled" };
        var next = GenerationHarness.ValidCommand() with { Prompt = "next" };
        await service.SendAsync(cancelled);
        await service.PublishedAsync<VideoGenerationSubmitted>();
        await service.SendAsync(next);

        await service.Harness.Bus.Publish(new CancelVideoGeneration(cancelled.RequestId));
        var answer = await service.EventuallyPublishedAsync<VideoFailed>(f => f.RequestId == cancelled.RequestId);
        for (var i = 0; i < 12; i++)
        {
            await service.AdvanceAndSettleAsync(Step);
        }

        var createdWhileStillGenerating = service.Kling.CreatedTasks.Count;
        var progressAfterCancel = service.Published<VideoGenerationProgressed>().Count;
        Volatile.Write(ref finished, true);
        await service.AdvanceUntilPublishedAsync<VideoGenerationSubmitted>(Step, filter: s => s.RequestId == next.RequestId);
        await service.AdvanceAndSettleAsync(Step);
        await service.Harness.Bus.Publish(new CancelVideoGeneration(cancelled.RequestId));
        await service.AdvanceAndSettleAsync(Step);

        Assert.Equal((VideoFailureReason.Cancelled, "task-1"), (answer.Reason, answer.TaskId));
        Assert.Contains("charged", answer.Message, StringComparison.Ordinal);
        Assert.Equal(1, createdWhileStillGenerating);
        Assert.Empty(service.Published<VideoReady>(r => r.RequestId == cancelled.RequestId));
        Assert.Equal(progressAfterCancel, service.Published<VideoGenerationProgressed>(p => p.RequestId == cancelled.RequestId).Count);
        // A second cancel of a job already cancelled does nothing.
        Assert.Single(service.Published<VideoFailed>(f => f.RequestId == cancelled.RequestId));
        Assert.Equal(JobState.Cancelled, (await service.StatusAsync(cancelled.RequestId)).State);
    }

    [Fact]
    public async Task Cancelling_while_the_task_is_being_created_answers_at_once_and_the_task_is_followed_without_a_word()
    {
        await using var service = await GenerationHarness.StartAsync();
        var answer = new TaskCompletionSource<CreateTaskResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Kling.OnCreate = (_, _) => answer.Task;
        service.Kling.ScriptStatuses(id => FakeKlingApi.Processing(id, 50, eta: 10), id => FakeKlingApi.Succeeded(id));
        var command = GenerationHarness.ValidCommand();
        await service.SendAsync(command);
        while (service.Kling.CreateAttempts == 0)
        {
            await Task.Delay(10);
        }

        await service.Harness.Bus.Publish(new CancelVideoGeneration(command.RequestId));
        var cancelled = await service.EventuallyPublishedAsync<VideoFailed>();
        answer.SetResult(new CreateTaskResponse("task-late"));
        // Only the job hears of the task (to follow it); subscribers were told "Cancelled" and hear nothing more.
        for (var i = 0; i < 500 && !service.Harness.Sent.Select<VideoGenerationSubmitted>().Any(); i++)
        {
            await Task.Delay(20);
        }

        for (var i = 0; i < 12; i++)
        {
            await service.AdvanceAndSettleAsync(Step);
        }

        Assert.Equal(VideoFailureReason.Cancelled, cancelled.Reason);
        Assert.Contains("may be created and charged", cancelled.Message, StringComparison.Ordinal);
        // The task was followed to its end (its slot counted), and the client heard nothing more.
        Assert.True(service.Kling.StatusCalls >= 2, $"{service.Kling.StatusCalls} status calls");
        Assert.Empty(service.Published<VideoReady>());
        Assert.Empty(service.Published<VideoGenerationProgressed>());
        Assert.Empty(service.Published<VideoGenerationSubmitted>());
        Assert.Single(service.Published<VideoFailed>());
        var status = await service.StatusAsync(command.RequestId);
        Assert.Equal((JobState.Cancelled, "task-late"), (status.State, status.TaskId));
        Assert.NotNull(status.EndedAt);
    }

    [Fact]
    public async Task A_cancel_that_lands_while_a_check_sees_the_video_ready_still_delivers_nothing_more()
    {
        await using var service = await GenerationHarness.StartAsync();
        using var checking = new ManualResetEventSlim();
        using var cancelDone = new ManualResetEventSlim();
        service.Kling.OnStatus = (id, _) =>
        {
            // The check is under way when the cancel commits; it then sees the task succeeded.
            checking.Set();
            cancelDone.Wait(TimeSpan.FromSeconds(20));
            return FakeKlingApi.Succeeded(id);
        };
        var command = GenerationHarness.ValidCommand();
        await service.SendAsync(command);
        await service.PublishedAsync<VideoGenerationSubmitted>();

        var advancing = service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(20));
        Assert.True(checking.Wait(TimeSpan.FromSeconds(20)), "The status check never started.");
        await service.Harness.Bus.Publish(new CancelVideoGeneration(command.RequestId));
        await service.EventuallyPublishedAsync<VideoFailed>();
        cancelDone.Set();
        await advancing;
        await service.AdvanceAndSettleAsync(Step);
        await Task.Delay(500);

        Assert.Equal(VideoFailureReason.Cancelled, Assert.Single(service.Published<VideoFailed>()).Reason);
        Assert.Empty(service.Published<VideoReady>());
        Assert.Equal(JobState.Cancelled, (await service.StatusAsync(command.RequestId)).State);
    }

    [Fact]
    public async Task Cancelling_an_ended_request_has_no_effect()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(id => FakeKlingApi.Succeeded(id));
        var command = GenerationHarness.ValidCommand();
        await service.SendAsync(command);
        await service.PublishedAsync<VideoGenerationSubmitted>();
        await service.AdvanceUntilPublishedAsync<VideoReady>(Step);

        await service.Harness.Bus.Publish(new CancelVideoGeneration(command.RequestId));
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(2));
        await Task.Delay(300);

        Assert.Empty(service.Published<VideoFailed>());
        Assert.Equal(JobState.Succeeded, (await service.StatusAsync(command.RequestId)).State);
    }

    [Fact]
    public async Task A_cancel_of_a_request_not_yet_arrived_is_answered_and_its_command_then_creates_nothing()
    {
        await using var service = await GenerationHarness.StartAsync();
        var command = GenerationHarness.ValidCommand();

        await service.Harness.Bus.Publish(new CancelVideoGeneration(command.RequestId));
        var answered = await service.EventuallyPublishedAsync<VideoFailed>(f => f.RequestId == command.RequestId);
        await service.SendAsync(command);
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(2));
        for (var i = 0; i < 100 && service.Published<VideoFailed>(f => f.RequestId == command.RequestId).Count < 2; i++)
        {
            await Task.Delay(20);
        }

        Assert.Equal(VideoFailureReason.Cancelled, answered.Reason);
        Assert.Contains("before it arrived", answered.Message, StringComparison.Ordinal);
        // The command, when it comes, hears its cancellation again and nothing is created.
        Assert.Equal(2, service.Published<VideoFailed>(f => f.RequestId == command.RequestId && f.Reason == VideoFailureReason.Cancelled).Count);
        Assert.Equal(0, service.Kling.CreateAttempts);
        Assert.Equal(JobState.Cancelled, (await service.StatusAsync(command.RequestId)).State);
    }

    [Fact]
    public async Task A_record_is_kept_for_the_retention_period_and_then_the_request_is_new()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?> { ["Jobs:RetentionPeriod"] = "1.00:00:00" });
        service.Kling.ScriptStatuses(id => FakeKlingApi.Succeeded(id));
        var command = GenerationHarness.ValidCommand();
        await service.SendAsync(command);
        await service.PublishedAsync<VideoGenerationSubmitted>();
        await service.AdvanceUntilPublishedAsync<VideoReady>(Step);

        await service.AdvanceAndSettleAsync(TimeSpan.FromHours(23));
        var withinRetention = await service.StatusAsync(command.RequestId);
        for (var i = 0; i < 4; i++)
        {
            await service.AdvanceAndSettleAsync(TimeSpan.FromHours(1));
        }

        await Task.Delay(200);
        var afterRetention = await service.StatusAsync(command.RequestId);
        await service.SendAsync(command);
        await service.EventuallyPublishedAsync<VideoGenerationSubmitted>(_ => service.Published<VideoGenerationSubmitted>().Count == 2);

        Assert.Equal(JobState.Succeeded, withinRetention.State);
        Assert.Equal(JobState.Unknown, afterRetention.State);
        Assert.Equal(2, service.Kling.CreatedTasks.Count);
    }
}
