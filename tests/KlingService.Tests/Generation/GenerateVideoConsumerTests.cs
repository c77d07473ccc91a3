using System.Net;
using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Kling;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Generation;

public sealed class GenerateVideoConsumerTests
{
    public static TheoryData<string, GenerateVideo> InvalidCommands()
    {
        var valid = GenerationHarness.ValidCommand();
        return new TheoryData<string, GenerateVideo>
        {
            { "RequestId", valid with { RequestId = Guid.Empty } },
            { "Prompt", valid with { Prompt = "" } },
            { "Prompt", valid with { Prompt = "   " } },
            { "Prompt", valid with { Prompt = null! } },
            { "Prompt", valid with { Prompt = new string('a', 2501) } },
            { "NegativePrompt", valid with { NegativePrompt = new string('a', 2501) } },
            { "Mode", valid with { Mode = (VideoMode)7 } },
            { "DurationSeconds", valid with { DurationSeconds = 7 } },
            { "DurationSeconds", valid with { DurationSeconds = 0 } },
            { "GuidanceScale", valid with { GuidanceScale = 1.5 } },
            { "GuidanceScale", valid with { GuidanceScale = -0.01 } },
            { "GuidanceScale", valid with { GuidanceScale = 0.555 } },
            { "Image", valid with { Image = "" } },
            { "Image", valid with { Image = null! } },
            { "Image", valid with { Image = "ftp://example.com/a.png" } },
            { "Image", valid with { Image = "https://" } },
            { "Image", valid with { Image = LongUrl(GenerateVideoValidator.MaxImageUrlLength + 1) } },
            { "Image", valid with { Image = "https://user:secret@images.example.com/first-frame.png" } },
            { "Image", valid with { Image = "https://token@images.example.com/first-frame.png" } },
            { "Image", valid with { Image = "not base64 at all!" } },
            { "Image", valid with { Image = Convert.ToBase64String("GIF89a, not a png or jpeg"u8.ToArray()) } },
            { "Image", valid with { Image = Images.Base64Png(299, 640) } },
            { "Image", valid with { Image = Convert.ToBase64String(Images.Jpeg(640, 200)) } },
            { "Image", valid with { Image = "data:text/plain;base64," + Images.Base64Png() } },
            { "Image", valid with { Image = Convert.ToBase64String(Images.Png(1024, 1024, padTo: (10 * 1024 * 1024) + 1)) } },
        };
    }

    private static string LongUrl(int length)
    {
        const string Start = "https://images.example.com/first-frame.png?sig=";
        return Start + new string('a', length - Start.Length);
    }

    [Theory]
    [MemberData(nameof(InvalidCommands))]
    public async Task Rejects_an_invalid_command_as_InvalidRequest_naming_the_field_without_calling_Kling(string field, GenerateVideo command)
    {
        await using var service = await GenerationHarness.StartAsync();

        await service.SendAsync(command);
        // Polled, not bounded by the harness's inactivity window: reading a 10 MB command can outlast it on a busy machine.
        var failed = await service.EventuallyPublishedAsync<VideoFailed>();

        Assert.Equal(VideoFailureReason.InvalidRequest, failed.Reason);
        Assert.StartsWith($"{field}:", failed.Message, StringComparison.Ordinal);
        Assert.Equal(command.RequestId, failed.RequestId);
        Assert.Null(failed.TaskId);
        Assert.Equal(0, service.Kling.CreateAttempts);
    }

    public static TheoryData<string> AcceptedImages() =>
    [
        "https://images.example.com/first-frame.jpg",
        "http://images.example.com/first-frame.png?size=large",
        LongUrl(GenerateVideoValidator.MaxImageUrlLength),
        Images.Base64Png(300, 300),
        "data:image/png;base64," + Images.Base64Png(1920, 1080),
        Images.DataUriJpeg(),
        Convert.ToBase64String(Images.Jpeg(4000, 3000)),
    ];

    [Theory]
    [MemberData(nameof(AcceptedImages))]
    public async Task Creates_one_task_for_each_accepted_image_form(string image)
    {
        await using var service = await GenerationHarness.StartAsync();
        var command = GenerationHarness.ValidCommand() with { Image = image };

        await service.SendAsync(command);
        var submitted = await service.PublishedAsync<VideoGenerationSubmitted>();

        Assert.Equal(command.RequestId, submitted.RequestId);
        var request = Assert.Single(service.Kling.CreatedTasks);
        Assert.Equal(image, request.Image);
        Assert.Empty(service.Published<VideoFailed>());
    }

    [Fact]
    public async Task Sends_the_commands_settings_to_Kling_in_the_providers_terms()
    {
        await using var service = await GenerationHarness.StartAsync();
        var command = new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), "waves", VideoMode.Professional, 10, 0.25, "people");

        await service.SendAsync(command);
        var submitted = await service.PublishedAsync<VideoGenerationSubmitted>();

        var request = Assert.Single(service.Kling.CreatedTasks);
        Assert.Equal(("waves", "Professional", "10", 0.25, "people"), (request.Prompt, request.Mode, request.Duration, request.GuidanceScale, request.NegativePrompt));
        Assert.Equal((VideoMode.Professional, 10), (submitted.Mode, submitted.DurationSeconds));
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, KlingErrorKind.Rejected, VideoFailureReason.ProviderRejected)]
    [InlineData(HttpStatusCode.UnprocessableEntity, KlingErrorKind.Rejected, VideoFailureReason.ProviderRejected)]
    public async Task A_permanent_provider_refusal_fails_the_job_at_once(HttpStatusCode status, KlingErrorKind kind, VideoFailureReason reason)
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.OnCreate = (_, _) => throw new KlingApiException(kind, status, $"Kling answered {(int)status}");

        await service.SendAsync(GenerationHarness.ValidCommand());
        var failed = await service.PublishedAsync<VideoFailed>();

        Assert.Equal(reason, failed.Reason);
        Assert.Null(failed.TaskId);
        Assert.Equal(1, service.Kling.CreateAttempts);
    }

    public static TheoryData<Exception> TransientFailures() =>
    [
        new KlingApiException(KlingErrorKind.Transient, HttpStatusCode.TooManyRequests, "busy", TimeSpan.FromSeconds(1)),
        new KlingApiException(KlingErrorKind.Transient, HttpStatusCode.ServiceUnavailable, "down"),
        new KlingApiException(KlingErrorKind.Transient, HttpStatusCode.InternalServerError, "{\"code\":500,\"message\":\"busy\"}", providerErrorBody: true),
        new KlingApiException(KlingErrorKind.Transient, null, "The Kling API could not be reached (ConnectionError).", delivery: CallDelivery.NotSent),
        new HttpRequestException(HttpRequestError.ConnectionError, "connection refused"),
    ];

    [Theory]
    [MemberData(nameof(TransientFailures))]
    public async Task A_create_failure_that_proves_nothing_was_created_is_retried_until_the_task_is_created(Exception failure)
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.OnCreate = (_, attempt) => attempt <= 2
            ? throw failure
            : Task.FromResult(new CreateTaskResponse("task-after-retries"));

        await service.SendAsync(GenerationHarness.ValidCommand());
        var submitted = await service.AdvanceUntilPublishedAsync<VideoGenerationSubmitted>(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));

        Assert.Equal("task-after-retries", submitted.TaskId);
        Assert.Equal(3, service.Kling.CreateAttempts);
        Assert.Single(service.Kling.CreatedTasks);
        Assert.Empty(service.Published<VideoFailed>());
    }

    [Fact]
    public async Task A_provider_outage_is_waited_out_with_growing_pauses_and_then_succeeds()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Generation:CreateRetryMinInterval"] = "00:00:10",
            ["Generation:CreateRetryMaxInterval"] = "00:01:00",
        });
        var attemptsAt = new List<DateTimeOffset>();
        service.Kling.OnCreate = (_, attempt) =>
        {
            attemptsAt.Add(service.Time.GetUtcNow());
            return attempt <= 4
                ? throw new KlingApiException(KlingErrorKind.Transient, HttpStatusCode.ServiceUnavailable, "down")
                : Task.FromResult(new CreateTaskResponse("task-late"));
        };

        await service.SendAsync(GenerationHarness.ValidCommand());
        var submitted = await service.AdvanceUntilPublishedAsync<VideoGenerationSubmitted>(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10));

        Assert.Equal("task-late", submitted.TaskId);
        Assert.Empty(service.Published<VideoFailed>());
        var pauses = attemptsAt.Zip(attemptsAt.Skip(1), (a, b) => b - a).ToList();
        // 10 s, 20 s, 40 s, 60 s (capped), each within the ±20 % spread and the 5 s clock steps.
        Assert.Equal(4, pauses.Count);
        Assert.All(pauses.Zip([10, 20, 40, 60]), p =>
            Assert.InRange(p.First.TotalSeconds, (p.Second * 0.8) - 0.01, (p.Second * 1.2) + 5.01));
    }

    [Fact]
    public async Task Fails_the_job_as_ProviderUnavailable_when_the_provider_stays_down_past_every_retry()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Generation:CreateAttemptLimit"] = "3",
            ["Generation:CreateRetryMinInterval"] = "00:00:10",
            ["Generation:CreateRetryMaxInterval"] = "00:00:20",
        });
        service.Kling.OnCreate = (_, _) => throw new KlingApiException(KlingErrorKind.Transient, HttpStatusCode.ServiceUnavailable, "service unavailable");
        var command = GenerationHarness.ValidCommand();

        await service.SendAsync(command);
        var failed = await service.AdvanceUntilPublishedAsync<VideoFailed>(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5));

        Assert.Equal(VideoFailureReason.ProviderUnavailable, failed.Reason);
        Assert.Equal(command.RequestId, failed.RequestId);
        Assert.Contains("service unavailable", failed.Message, StringComparison.Ordinal);
        Assert.Equal(3, service.Kling.CreateAttempts);
        Assert.Empty(service.Kling.CreatedTasks);
    }

    [Fact]
    public async Task A_busy_account_never_fails_the_job_and_is_asked_again_only_after_its_Retry_After()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?> { ["Generation:CreateAttemptLimit"] = "2" });
        var attemptsAt = new List<DateTimeOffset>();
        service.Kling.OnCreate = (_, attempt) =>
        {
            attemptsAt.Add(service.Time.GetUtcNow());
            return attempt <= 6
                ? throw new KlingApiException(KlingErrorKind.Transient, HttpStatusCode.TooManyRequests, "busy", TimeSpan.FromSeconds(30))
                : Task.FromResult(new CreateTaskResponse("task-when-free"));
        };

        await service.SendAsync(GenerationHarness.ValidCommand());
        var submitted = await service.AdvanceUntilPublishedAsync<VideoGenerationSubmitted>(TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(10));

        // Six 429s against an attempt limit of two: being busy is not a failure.
        Assert.Equal("task-when-free", submitted.TaskId);
        Assert.Empty(service.Published<VideoFailed>());
        Assert.Equal(7, attemptsAt.Count);
        Assert.All(attemptsAt.Zip(attemptsAt.Skip(1), (a, b) => b - a), pause => Assert.True(pause >= TimeSpan.FromSeconds(30), $"asked again after {pause}"));
    }

    [Fact]
    public async Task Never_has_more_tasks_generating_than_the_cap_and_starts_the_oldest_waiting_job_when_a_slot_frees()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?> { ["Kling:MaxConcurrentTasks"] = "2" });
        var finished = new HashSet<string>();
        service.Kling.OnStatus = (taskId, _) =>
        {
            lock (finished)
            {
                return finished.Contains(taskId) ? FakeKlingApi.Succeeded(taskId) : FakeKlingApi.Processing(taskId, 50, 60);
            }
        };
        var commands = Enumerable.Range(0, 5).Select(i => GenerationHarness.ValidCommand() with { Prompt = $"job {i}" }).ToList();

        foreach (var command in commands)
        {
            await service.SendAsync(command);
        }

        await service.PublishedAsync<VideoGenerationSubmitted>(s => s.RequestId == commands[1].RequestId);
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(20));
        // The first two start together; only they may run until a slot frees.
        Assert.Equal(["job 0", "job 1"], service.Kling.CreatedTasks.Select(t => t.Prompt).Order());

        for (var done = 1; done <= 3; done++)
        {
            lock (finished)
            {
                finished.Add($"task-{done}");
            }

            var expectedReady = done;
            await service.AdvanceUntilPublishedAsync<VideoReady>(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), r => r.TaskId == $"task-{expectedReady}");
            var next = commands[done + 1];
            // The launcher's create is work the harness does not see: polled, not bounded by its inactivity window.
            await service.EventuallyPublishedAsync<VideoGenerationSubmitted>(s => s.RequestId == next.RequestId);
            Assert.Equal(done + 2, service.Kling.CreatedTasks.Count);
        }

        // Each freed slot went to the oldest waiting job.
        Assert.Equal(["job 2", "job 3", "job 4"], service.Kling.CreatedTasks.Skip(2).Select(t => t.Prompt));
        Assert.Empty(service.Published<VideoFailed>());
    }

    [Fact]
    public async Task A_repeated_command_creates_no_second_task_while_it_runs_and_gets_the_same_answer_again_after_it_ended()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(id => FakeKlingApi.Succeeded(id));
        var command = GenerationHarness.ValidCommand();

        await Task.WhenAll(service.SendAsync(command), service.SendAsync(command), service.SendAsync(command));
        await service.PublishedAsync<VideoGenerationSubmitted>();
        var first = await service.AdvanceUntilPublishedAsync<VideoReady>(TimeSpan.FromSeconds(5));
        var readyWhileRunning = service.Published<VideoReady>().Count;

        // A client that lost its event sends the same command again: the answer is published again.
        await service.SendAsync(command);
        await service.EventuallyPublishedAsync<VideoReady>(r => service.Published<VideoReady>().Count == 2);
        await service.AdvanceAndSettleAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(1, readyWhileRunning);
        Assert.Single(service.Kling.CreatedTasks);
        var answers = service.Harness.Published.Select<VideoReady>().ToList();
        Assert.Equal(2, answers.Count);
        Assert.All(answers, a => Assert.Equal(first, a.Context.Message));
        Assert.NotEqual(answers[0].Context.MessageId, answers[1].Context.MessageId);
        Assert.Empty(service.Published<VideoFailed>());
    }

    [Fact]
    public async Task A_repeated_invalid_command_gets_the_same_answer_again_and_spends_nothing()
    {
        await using var service = await GenerationHarness.StartAsync();
        var command = GenerationHarness.ValidCommand() with { DurationSeconds = 3 };

        await service.SendAsync(command);
        var first = await service.PublishedAsync<VideoFailed>();
        await service.SendAsync(command);
        await service.EventuallyPublishedAsync<VideoFailed>(_ => service.Published<VideoFailed>().Count == 2);

        Assert.All(service.Published<VideoFailed>(), f => Assert.Equal(first, f));
        Assert.Equal(0, service.Kling.CreateAttempts);
    }

    [Fact]
    public async Task Different_requests_with_the_same_content_are_separate_jobs()
    {
        await using var service = await GenerationHarness.StartAsync();
        var first = GenerationHarness.ValidCommand();

        await service.SendAsync(first);
        await service.SendAsync(first with { RequestId = Guid.NewGuid() });
        await service.PublishedAsync<VideoGenerationSubmitted>(s => s.RequestId != first.RequestId);
        await service.PublishedAsync<VideoGenerationSubmitted>(s => s.RequestId == first.RequestId);

        Assert.Equal(2, service.Kling.CreatedTasks.Count);
    }
}
