using System.Net;
using KlingService.Contracts;
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
            { "Image", valid with { Image = "not base64 at all!" } },
            { "Image", valid with { Image = Convert.ToBase64String("GIF89a, not a png or jpeg"u8.ToArray()) } },
            { "Image", valid with { Image = Images.Base64Png(299, 640) } },
            { "Image", valid with { Image = Convert.ToBase64String(Images.Jpeg(640, 200)) } },
            { "Image", valid with { Image = "data:text/plain;base64," + Images.Base64Png() } },
            { "Image", valid with { Image = Convert.ToBase64String(Images.Png(1024, 1024, padTo: (10 * 1024 * 1024) + 1)) } },
        };
    }

    [Theory]
    [MemberData(nameof(InvalidCommands))]
    public async Task Rejects_an_invalid_command_as_InvalidRequest_naming_the_field_without_calling_Kling(string field, GenerateVideo command)
    {
        await using var service = await GenerationHarness.StartAsync();

        await service.SendAsync(command);
        var failed = await service.PublishedAsync<VideoFailed>();

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
    [InlineData(HttpStatusCode.Unauthorized, KlingErrorKind.Unauthorized, VideoFailureReason.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden, KlingErrorKind.Unauthorized, VideoFailureReason.Unauthorized)]
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
        new KlingApiException(KlingErrorKind.Transient, null, "The Kling API did not answer in time."),
        new HttpRequestException("connection refused"),
    ];

    [Theory]
    [MemberData(nameof(TransientFailures))]
    public async Task A_transient_create_failure_is_retried_until_the_task_is_created(Exception failure)
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.OnCreate = (_, attempt) => attempt <= 2
            ? throw failure
            : Task.FromResult(new CreateTaskResponse("task-after-retries"));

        await service.SendAsync(GenerationHarness.ValidCommand());
        var submitted = await service.PublishedAsync<VideoGenerationSubmitted>();

        Assert.Equal("task-after-retries", submitted.TaskId);
        Assert.Equal(3, service.Kling.CreateAttempts);
        Assert.Single(service.Kling.CreatedTasks);
        Assert.Empty(service.Published<VideoFailed>());
    }

    [Fact]
    public async Task A_provider_outage_longer_than_quick_retries_waits_through_the_scheduler_and_then_succeeds()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?> { ["Generation:CreateRetryLimit"] = "1" });
        service.Kling.OnCreate = (_, attempt) => attempt <= 4
            ? throw new KlingApiException(KlingErrorKind.Transient, HttpStatusCode.ServiceUnavailable, "down")
            : Task.FromResult(new CreateTaskResponse("task-late"));

        await service.SendAsync(GenerationHarness.ValidCommand());
        var submitted = await service.AdvanceUntilPublishedAsync<VideoGenerationSubmitted>(TimeSpan.FromSeconds(10));

        Assert.Equal("task-late", submitted.TaskId);
        Assert.Empty(service.Published<VideoFailed>());
    }

    [Fact]
    public async Task Fails_the_job_as_ProviderUnavailable_when_the_provider_stays_down_past_every_retry()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Generation:CreateRetryLimit"] = "1",
            ["Generation:CreateRedeliveryLimit"] = "2",
            ["Generation:CreateRedeliveryMinInterval"] = "00:00:10",
            ["Generation:CreateRedeliveryMaxInterval"] = "00:00:20",
        });
        service.Kling.OnCreate = (_, _) => throw new KlingApiException(KlingErrorKind.Transient, HttpStatusCode.BadGateway, "bad gateway");
        var command = GenerationHarness.ValidCommand();

        await service.SendAsync(command);
        var failed = await service.AdvanceUntilPublishedAsync<VideoFailed>(TimeSpan.FromSeconds(10));

        Assert.Equal(VideoFailureReason.ProviderUnavailable, failed.Reason);
        Assert.Equal(command.RequestId, failed.RequestId);
        Assert.Contains("bad gateway", failed.Message, StringComparison.Ordinal);
        // One try and one quick retry, for the first delivery and each of the two redeliveries.
        Assert.Equal(6, service.Kling.CreateAttempts);
        Assert.Empty(service.Kling.CreatedTasks);
    }

    [Fact]
    public async Task A_repeated_command_creates_no_second_task_and_no_second_terminal_event()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(id => FakeKlingApi.Succeeded(id));
        var command = GenerationHarness.ValidCommand();

        await Task.WhenAll(service.SendAsync(command), service.SendAsync(command), service.SendAsync(command));
        await service.PublishedAsync<VideoGenerationSubmitted>();
        await service.AdvanceUntilPublishedAsync<VideoReady>(TimeSpan.FromSeconds(5));

        // A client retry after the job ended is ignored too.
        await service.SendAsync(command);
        await service.AdvanceAndSettleAsync(TimeSpan.FromMinutes(1));

        Assert.Single(service.Kling.CreatedTasks);
        Assert.Single(service.Published<VideoReady>());
        Assert.Empty(service.Published<VideoFailed>());
    }

    [Fact]
    public async Task A_repeated_invalid_command_is_answered_once()
    {
        await using var service = await GenerationHarness.StartAsync();
        var command = GenerationHarness.ValidCommand() with { DurationSeconds = 3 };

        await service.SendAsync(command);
        await service.PublishedAsync<VideoFailed>();
        await service.SendAsync(command);
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(1));

        Assert.Single(service.Published<VideoFailed>());
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
