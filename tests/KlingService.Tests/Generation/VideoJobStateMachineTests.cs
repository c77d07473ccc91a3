using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Kling;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Generation;

public sealed class VideoJobStateMachineTests
{
    private static readonly TimeSpan FirstCheck = new GenerationOptions().FirstCheckAfter;
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Publishes_VideoReady_with_the_url_and_its_expiry_when_the_task_succeeds()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(
            id => FakeKlingApi.Processing(id, 40, eta: 20),
            id => FakeKlingApi.Succeeded(id, "https://cdn.example/fox.mp4", ttl: "1800"));
        var command = GenerationHarness.ValidCommand();

        await service.SendAsync(command);
        var submitted = await service.PublishedAsync<VideoGenerationSubmitted>();
        var ready = await service.AdvanceUntilPublishedAsync<VideoReady>(Step);

        Assert.Equal(command.RequestId, submitted.RequestId);
        Assert.Equal(command.RequestId, ready.RequestId);
        Assert.Equal(submitted.TaskId, ready.TaskId);
        Assert.Equal("https://cdn.example/fox.mp4", ready.VideoUrl);
        Assert.Equal(service.Time.GetUtcNow().AddSeconds(1800), ready.VideoUrlExpiresAt);
        Assert.Equal("mp4", ready.VideoType);
        // Seen at the second check: the first delay, then 70 % of the 20-second eta (within one clock step).
        var secondCheck = FirstCheck + (TimeSpan.FromSeconds(20) * new GenerationOptions().EtaTrust);
        Assert.InRange(ready.TimeTaken, secondCheck, secondCheck + Step + TimeSpan.FromSeconds(1));
        Assert.Empty(service.Published<VideoFailed>());
    }

    [Fact]
    public async Task Publishes_VideoFailed_with_the_providers_reason_when_the_task_fails()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(id => FakeKlingApi.Failed(id, "content policy violation"));
        var command = GenerationHarness.ValidCommand();

        await service.SendAsync(command);
        var submitted = await service.PublishedAsync<VideoGenerationSubmitted>();
        var failed = await service.AdvanceUntilPublishedAsync<VideoFailed>(Step);

        Assert.Equal(command.RequestId, failed.RequestId);
        Assert.Equal(submitted.TaskId, failed.TaskId);
        Assert.Equal(VideoFailureReason.GenerationFailed, failed.Reason);
        Assert.Equal("content policy violation", failed.Message);
        Assert.Empty(service.Published<VideoReady>());
    }

    [Fact]
    public async Task Publishes_VideoFailed_TimedOut_when_the_task_outlives_the_deadline_and_stops_polling()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Generation:JobDeadline"] = "00:05:00",
        });
        service.Kling.OnStatus = (id, _) => FakeKlingApi.Processing(id, 50, eta: 30);

        await service.SendAsync(GenerationHarness.ValidCommand());
        var submitted = await service.PublishedAsync<VideoGenerationSubmitted>();
        var failed = await service.AdvanceUntilPublishedAsync<VideoFailed>(TimeSpan.FromSeconds(31));

        Assert.Equal(VideoFailureReason.TimedOut, failed.Reason);
        Assert.Equal(submitted.TaskId, failed.TaskId);
        Assert.Null(await service.Saga.NotExists(TaskCorrelation.FromTaskId(submitted.TaskId)));

        var checksAtEnd = service.Kling.StatusCalls;
        await service.AdvanceAndSettleAsync(TimeSpan.FromMinutes(2));
        await service.AdvanceAndSettleAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(checksAtEnd, service.Kling.StatusCalls);
        Assert.Single(service.Published<VideoFailed>());
    }

    [Fact]
    public async Task Publishes_progress_only_when_the_status_or_percentage_changes()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(
            FakeKlingApi.Queued,
            FakeKlingApi.Queued,
            id => FakeKlingApi.Processing(id, 30, eta: 5),
            id => FakeKlingApi.Processing(id, 30, eta: 5),
            id => FakeKlingApi.Processing(id, 80, eta: 2),
            id => FakeKlingApi.Succeeded(id));

        await service.SendAsync(GenerationHarness.ValidCommand());
        await service.PublishedAsync<VideoGenerationSubmitted>();
        await service.AdvanceUntilPublishedAsync<VideoReady>(TimeSpan.FromSeconds(2));

        Assert.Equal(
            ["TASK_STATUS_QUEUED:0", "TASK_STATUS_PROCESSING:30", "TASK_STATUS_PROCESSING:80"],
            service.Published<VideoGenerationProgressed>().Select(p => $"{p.Status}:{p.ProgressPercent}"));
        Assert.Equal(6, service.Kling.StatusCalls);
    }

    [Fact]
    public async Task Does_not_check_before_the_first_check_delay()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(id => FakeKlingApi.Succeeded(id));

        await service.SendAsync(GenerationHarness.ValidCommand());
        await service.PublishedAsync<VideoGenerationSubmitted>();
        // Real time also moves the transport's clock a little, so stop well short of the delay.
        await service.AdvanceAndSettleAsync(FirstCheck - TimeSpan.FromSeconds(5));
        Assert.Equal(0, service.Kling.StatusCalls);

        await service.AdvanceUntilPublishedAsync<VideoReady>(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        Assert.Equal(1, service.Kling.StatusCalls);
    }

    [Fact]
    public async Task Aims_the_next_check_at_the_eta_instead_of_polling_early()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(
            id => FakeKlingApi.Processing(id, 10, eta: 45),
            id => FakeKlingApi.Succeeded(id));

        await service.SendAsync(GenerationHarness.ValidCommand());
        await service.PublishedAsync<VideoGenerationSubmitted>();
        await service.AdvanceUntilPublishedAsync<VideoReady>(TimeSpan.FromSeconds(2));

        // One check at the first delay, one just after the eta: nothing in between, although the
        // clock moved in 2-second steps.
        Assert.Equal(2, service.Kling.StatusCalls);
    }

    [Fact]
    public async Task A_failing_status_check_is_retried_and_does_not_end_the_job()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(
            _ => throw new KlingApiException(KlingErrorKind.Transient, System.Net.HttpStatusCode.BadGateway, "bad gateway"),
            _ => throw new KlingApiException(KlingErrorKind.Transient, null, "timed out"),
            _ => throw new HttpRequestException("connection reset"),
            id => FakeKlingApi.Succeeded(id));

        await service.SendAsync(GenerationHarness.ValidCommand());
        await service.PublishedAsync<VideoGenerationSubmitted>();
        await service.AdvanceUntilPublishedAsync<VideoReady>(Step);

        Assert.Equal(4, service.Kling.StatusCalls);
        Assert.Empty(service.Published<VideoFailed>());
    }

    [Fact]
    public async Task Keeps_polling_through_an_unknown_status()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(id => FakeKlingApi.WithStatus(id, "TASK_STATUS_PAUSED"), id => FakeKlingApi.Succeeded(id));

        await service.SendAsync(GenerationHarness.ValidCommand());
        await service.PublishedAsync<VideoGenerationSubmitted>();
        await service.AdvanceUntilPublishedAsync<VideoReady>(Step);

        Assert.Equal("TASK_STATUS_PAUSED", Assert.Single(service.Published<VideoGenerationProgressed>()).Status);
        Assert.Empty(service.Published<VideoFailed>());
    }

    [Fact]
    public async Task Removes_the_saga_when_the_job_ends()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(id => FakeKlingApi.Succeeded(id));

        await service.SendAsync(GenerationHarness.ValidCommand());
        var submitted = await service.PublishedAsync<VideoGenerationSubmitted>();
        var correlationId = TaskCorrelation.FromTaskId(submitted.TaskId);
        Assert.NotNull(await service.Saga.Exists(correlationId, s => s.Generating));

        await service.AdvanceUntilPublishedAsync<VideoReady>(Step);
        Assert.Null(await service.Saga.NotExists(correlationId));
    }

    [Fact]
    public async Task A_client_resending_its_command_every_few_seconds_never_postpones_the_status_check()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(id => FakeKlingApi.Processing(id, 50, eta: 20), id => FakeKlingApi.Succeeded(id));
        var command = GenerationHarness.ValidCommand();

        await service.SendAsync(command);
        var submitted = await service.PublishedAsync<VideoGenerationSubmitted>();
        for (var elapsed = TimeSpan.Zero; elapsed < TimeSpan.FromMinutes(1) && service.Published<VideoReady>().Count == 0; elapsed += Step)
        {
            // Each repeat re-announces the submission, as a repeated GenerateVideo does.
            await service.Harness.Bus.Publish(submitted with { SubmittedAt = service.Time.GetUtcNow() });
            await service.AdvanceAndSettleAsync(Step);
        }

        Assert.True(service.Kling.StatusCalls >= 1, "The first check never ran: every repeat pushed it back.");
        Assert.Single(service.Published<VideoReady>());
    }

    [Fact]
    public async Task A_re_arm_every_few_seconds_never_postpones_the_planned_status_check()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(id => FakeKlingApi.Processing(id, 50, eta: 20), id => FakeKlingApi.Succeeded(id));
        await service.SendAsync(GenerationHarness.ValidCommand());
        var submitted = await service.PublishedAsync<VideoGenerationSubmitted>();
        var job = TaskCorrelation.FromTaskId(submitted.TaskId);

        for (var elapsed = TimeSpan.Zero; elapsed < TimeSpan.FromMinutes(2) && service.Published<VideoReady>().Count == 0; elapsed += Step)
        {
            // A sweeper acting on a stale flag, or anyone on the bus: "this job has no check".
            await service.Harness.Bus.Publish(new RearmVideoJob(job, submitted.TaskId, CheckMissing: true, DeadlineMissing: false));
            await service.AdvanceAndSettleAsync(Step);
        }

        Assert.True(service.Kling.StatusCalls >= 2, $"{service.Kling.StatusCalls} status calls: each re-arm pushed the planned check back.");
        Assert.Single(service.Published<VideoReady>());
    }

    [Fact]
    public async Task A_late_Submitted_after_the_job_ended_starts_no_second_life()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(id => FakeKlingApi.Succeeded(id));
        await service.SendAsync(GenerationHarness.ValidCommand());
        var submitted = await service.PublishedAsync<VideoGenerationSubmitted>();
        await service.AdvanceUntilPublishedAsync<VideoReady>(Step);
        var callsAtEnd = service.Kling.StatusCalls;

        await service.Harness.Bus.Publish(submitted);
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 12; i++)
        {
            await service.AdvanceAndSettleAsync(Step);
        }

        Assert.Single(service.Published<VideoReady>());
        Assert.Empty(service.Published<VideoFailed>());
        Assert.Equal(callsAtEnd, service.Kling.StatusCalls);
        Assert.Null(await service.Saga.NotExists(TaskCorrelation.FromTaskId(submitted.TaskId)));
    }

    [Fact]
    public async Task A_forged_Submitted_with_a_made_up_task_starts_no_job_and_the_real_task_is_still_created_and_delivered()
    {
        await using var service = await GenerationHarness.StartAsync();
        var createMayAnswer = new TaskCompletionSource();
        var createStarted = new TaskCompletionSource();
        service.Kling.OnCreate = async (_, _) =>
        {
            createStarted.TrySetResult();
            await createMayAnswer.Task;
            return new CreateTaskResponse($"task-{Guid.NewGuid():N}");
        };
        var checkedTasks = new System.Collections.Concurrent.ConcurrentBag<string>();
        service.Kling.OnStatus = (id, _) =>
        {
            checkedTasks.Add(id);
            return FakeKlingApi.Succeeded(id);
        };
        var command = GenerationHarness.ValidCommand();
        await service.SendAsync(command);
        await createStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Anyone who can publish on the bus: a made-up task for the waiting request, and one for a request nobody sent.
        await service.Harness.Bus.Publish(new VideoGenerationSubmitted(command.RequestId, "forged-task", service.Time.GetUtcNow(), VideoMode.Standard, 5));
        await service.Harness.Bus.Publish(new VideoGenerationSubmitted(Guid.NewGuid(), "forged-other", service.Time.GetUtcNow(), VideoMode.Standard, 5));
        try
        {
            await service.AdvanceAndSettleAsync(FirstCheck);
            await service.AdvanceAndSettleAsync(Step);

            Assert.Null(await service.Saga.NotExists(TaskCorrelation.FromTaskId("forged-task")));
            Assert.Null(await service.Saga.NotExists(TaskCorrelation.FromTaskId("forged-other")));
            Assert.DoesNotContain(checkedTasks, id => id.StartsWith("forged", StringComparison.Ordinal));
            Assert.Empty(service.Published<VideoFailed>());
        }
        finally
        {
            // The create call in flight must end, or the harness waits for it when it stops.
            createMayAnswer.TrySetResult();
        }

        var ready = await service.AdvanceUntilPublishedAsync<VideoReady>(Step);
        Assert.Equal(command.RequestId, ready.RequestId);
        Assert.StartsWith("task-", ready.TaskId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_task_the_provider_cancelled_fails_the_job_with_the_providers_words()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(
            id => FakeKlingApi.Processing(id, 20, eta: 30),
            id => new TaskResultResponse(new KlingTask(id, KlingTaskStatus.Canceled, Reason: "cancelled by moderation"), []));

        await service.SendAsync(GenerationHarness.ValidCommand());
        var submitted = await service.PublishedAsync<VideoGenerationSubmitted>();
        var failed = await service.AdvanceUntilPublishedAsync<VideoFailed>(Step, TimeSpan.FromMinutes(3));

        Assert.Equal(VideoFailureReason.GenerationFailed, failed.Reason);
        Assert.Equal(submitted.TaskId, failed.TaskId);
        Assert.Contains("TASK_STATUS_CANCELED", failed.Message, StringComparison.Ordinal);
        Assert.Contains("cancelled by moderation", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_task_the_provider_stops_knowing_fails_the_job_instead_of_waiting_for_the_deadline()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.OnStatus = (_, _) => throw new KlingApiException(KlingErrorKind.NotFound, System.Net.HttpStatusCode.NotFound, "Kling answered 404: task not found");

        await service.SendAsync(GenerationHarness.ValidCommand());
        await service.PublishedAsync<VideoGenerationSubmitted>();
        var failed = await service.AdvanceUntilPublishedAsync<VideoFailed>(Step, TimeSpan.FromMinutes(5));

        Assert.Equal(VideoFailureReason.GenerationFailed, failed.Reason);
        Assert.Contains("task not found", failed.Message, StringComparison.Ordinal);
        Assert.Equal(CheckTaskStatusActivity.NotFoundLimit, service.Kling.StatusCalls);
    }

    [Fact]
    public async Task A_task_that_finishes_in_the_last_seconds_before_the_deadline_is_delivered_not_timed_out()
    {
        var deadline = TimeSpan.FromMinutes(5);
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?> { ["Generation:JobDeadline"] = "00:05:00" });
        var start = service.Time.GetUtcNow();
        // Still processing at every check the plan makes before the deadline; finished half a second before it.
        service.Kling.OnStatus = (id, _) => service.Time.GetUtcNow() - start >= deadline - TimeSpan.FromMilliseconds(500)
            ? FakeKlingApi.Succeeded(id, "https://cdn.example/last-second.mp4")
            : FakeKlingApi.Processing(id, 99, eta: 600);

        await service.SendAsync(GenerationHarness.ValidCommand());
        await service.PublishedAsync<VideoGenerationSubmitted>();
        for (var i = 0; i < 400 && service.Published<VideoReady>().Count + service.Published<VideoFailed>().Count == 0; i++)
        {
            await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(1));
        }

        Assert.Empty(service.Published<VideoFailed>().Select(f => $"{f.Reason}: {f.Message}"));
        Assert.Equal("https://cdn.example/last-second.mp4", Assert.Single(service.Published<VideoReady>()).VideoUrl);
    }

    [Fact]
    public async Task A_status_check_after_the_deadline_ends_the_job_even_when_the_deadline_message_was_lost()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?> { ["Generation:JobDeadline"] = "00:10:00" });
        service.Kling.OnStatus = (id, _) => FakeKlingApi.Processing(id, 50, eta: 30);
        await service.SendAsync(GenerationHarness.ValidCommand());
        var submitted = await service.PublishedAsync<VideoGenerationSubmitted>();

        // Only the service's clock moves: the scheduled deadline never fires, as when its message is lost.
        service.Time.Advance(TimeSpan.FromMinutes(11));
        await service.Harness.Bus.Publish(new CheckVideoStatus(TaskCorrelation.FromTaskId(submitted.TaskId), submitted.TaskId));
        var failed = await service.PublishedAsync<VideoFailed>();

        Assert.Equal(VideoFailureReason.TimedOut, failed.Reason);
        Assert.Equal(submitted.TaskId, failed.TaskId);
    }
}
