using System.Net;
using KlingService.Kling;
using KlingService.Simulator;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Kling;

/// <summary>The Refit client against the simulator over a real socket.</summary>
public sealed class KlingClientTests
{
    private static CreateTaskRequest ValidRequest(string prompt = "a lighthouse at dusk") =>
        new(Images.Base64Png(), prompt, "Standard", "5", 0.5, null);

    [Fact]
    public async Task Creates_a_task_and_follows_it_from_queued_to_a_downloadable_video()
    {
        await using var kling = await SimulatorClient.StartAsync();

        var created = await kling.Api.CreateTaskAsync(ValidRequest(), CancellationToken.None);
        var queued = await kling.Api.GetTaskResultAsync(created.TaskId, CancellationToken.None);
        kling.Time.Advance(TimeSpan.FromSeconds(7));
        var processing = await kling.Api.GetTaskResultAsync(created.TaskId, CancellationToken.None);
        kling.Time.Advance(TimeSpan.FromSeconds(6));
        var done = await kling.Api.GetTaskResultAsync(created.TaskId, CancellationToken.None);

        Assert.Equal((KlingTaskStatus.Queued, 0, 12), (queued.Task.Status, queued.Task.ProgressPercent, queued.Task.Eta));
        Assert.Equal((KlingTaskStatus.Processing, 50, 5), (processing.Task.Status, processing.Task.ProgressPercent, processing.Task.Eta));
        Assert.Equal(KlingTaskStatus.Succeed, done.Task.Status);
        var video = Assert.Single(done.Videos!);
        Assert.Equal(("mp4", "3600"), (video.VideoType, video.VideoUrlTtl));

        using var download = await kling.Http.GetAsync(video.VideoUrl);
        download.EnsureSuccessStatusCode();
        Assert.Equal("video/mp4", download.Content.Headers.ContentType?.MediaType);
        var bytes = await download.Content.ReadAsByteArrayAsync();
        Assert.Equal("ftyp"u8.ToArray(), bytes[4..8]);
    }

    [Fact]
    public async Task The_video_url_stops_working_after_its_ttl()
    {
        await using var kling = await SimulatorClient.StartAsync(new SimulatorOptions { QueueSeconds = 0, ProcessingSeconds = 1, VideoUrlTtlSeconds = 60 });
        var created = await kling.Api.CreateTaskAsync(ValidRequest(), CancellationToken.None);
        kling.Time.Advance(TimeSpan.FromSeconds(2));
        var url = (await kling.Api.GetTaskResultAsync(created.TaskId, CancellationToken.None)).Videos![0].VideoUrl;

        kling.Time.Advance(TimeSpan.FromSeconds(61));
        using var download = await kling.Http.GetAsync(url);

        Assert.Equal(HttpStatusCode.Forbidden, download.StatusCode);
    }

    [Fact]
    public async Task A_failing_task_reports_its_reason()
    {
        await using var kling = await SimulatorClient.StartAsync(new SimulatorOptions { QueueSeconds = 0, ProcessingSeconds = 1 });
        var created = await kling.Api.CreateTaskAsync(ValidRequest("please [fail] this"), CancellationToken.None);
        kling.Time.Advance(TimeSpan.FromSeconds(2));

        var result = await kling.Api.GetTaskResultAsync(created.TaskId, CancellationToken.None);

        Assert.Equal(KlingTaskStatus.Failed, result.Task.Status);
        Assert.False(string.IsNullOrWhiteSpace(result.Task.Reason));
        Assert.Empty(result.Videos ?? []);
    }

    [Fact]
    public async Task A_wrong_key_is_classified_Unauthorized_and_the_key_is_in_no_exception_text()
    {
        const string wrongKey = "sk-live-wrong-key-1234567890";
        await using var kling = await SimulatorClient.StartAsync(apiKey: wrongKey);

        var error = await Assert.ThrowsAsync<KlingApiException>(() => kling.Api.CreateTaskAsync(ValidRequest(), CancellationToken.None));

        Assert.Equal((KlingErrorKind.Unauthorized, HttpStatusCode.Unauthorized), (error.Kind, error.StatusCode));
        Assert.DoesNotContain(wrongKey, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(kling.Simulator.Options.ApiKey, error.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, kling.Simulator.Board.Stats().CreateCalls);
    }

    [Fact]
    public async Task Bad_parameters_are_classified_Rejected()
    {
        await using var kling = await SimulatorClient.StartAsync();

        var error = await Assert.ThrowsAsync<KlingApiException>(
            () => kling.Api.CreateTaskAsync(ValidRequest() with { Duration = "7" }, CancellationToken.None));

        Assert.Equal((KlingErrorKind.Rejected, HttpStatusCode.BadRequest), (error.Kind, error.StatusCode));
        Assert.Contains("duration", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_account_cap_answers_429_with_Retry_After_until_a_slot_frees()
    {
        await using var kling = await SimulatorClient.StartAsync(new SimulatorOptions { MaxConcurrentTasks = 2, QueueSeconds = 0, ProcessingSeconds = 10 });
        await kling.Api.CreateTaskAsync(ValidRequest(), CancellationToken.None);
        await kling.Api.CreateTaskAsync(ValidRequest(), CancellationToken.None);

        var busy = await Assert.ThrowsAsync<KlingApiException>(() => kling.Api.CreateTaskAsync(ValidRequest(), CancellationToken.None));
        kling.Time.Advance(TimeSpan.FromSeconds(11));
        await kling.Api.CreateTaskAsync(ValidRequest(), CancellationToken.None);

        Assert.Equal((KlingErrorKind.Transient, HttpStatusCode.TooManyRequests), (busy.Kind, busy.StatusCode));
        Assert.Equal(TimeSpan.FromSeconds(1), busy.RetryAfter);
        Assert.Equal(3, kling.Simulator.Board.Stats().CreateCalls);
        Assert.Equal(2, kling.Simulator.Board.Stats().PeakGenerating);
    }

    [Fact]
    public async Task A_provider_5xx_is_classified_transient()
    {
        await using var kling = await SimulatorClient.StartAsync(new SimulatorOptions { ServerErrorRate = 1 });

        var error = await Assert.ThrowsAsync<KlingApiException>(() => kling.Api.GetTaskResultAsync("any", CancellationToken.None));

        Assert.Equal((KlingErrorKind.Transient, HttpStatusCode.ServiceUnavailable), (error.Kind, error.StatusCode));
        Assert.True(KlingApiException.IsTransient(error));
    }

    [Fact]
    public async Task A_hanging_request_times_out_as_transient()
    {
        await using var kling = await SimulatorClient.StartAsync(new SimulatorOptions { HangRate = 1, HangSeconds = 600 }, requestTimeout: TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<KlingApiException>(() => kling.Api.CreateTaskAsync(ValidRequest(), CancellationToken.None));

        Assert.Equal(KlingErrorKind.Transient, error.Kind);
        Assert.Null(error.StatusCode);
    }

    [Fact]
    public async Task An_unknown_task_is_classified_NotFound()
    {
        await using var kling = await SimulatorClient.StartAsync();

        var error = await Assert.ThrowsAsync<KlingApiException>(() => kling.Api.GetTaskResultAsync("no-such-task", CancellationToken.None));

        Assert.Equal(KlingErrorKind.NotFound, error.Kind);
    }
}
