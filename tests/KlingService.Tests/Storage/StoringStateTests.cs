using System.Net;
using KlingService.Contracts;
using KlingService.Simulator;
using KlingService.Storage;
using KlingService.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace KlingService.Tests.Storage;

/// <summary>The saga's wait for the copy, on the harness's clock: a copy that never answers cannot hold a paid video back for ever.</summary>
public sealed class StoringStateTests
{
    [Fact]
    public async Task A_copy_that_never_answers_is_waited_for_until_the_store_timeout_then_the_video_goes_out_once_with_the_provider_URL()
    {
        var store = new StallingStore();
        await using var service = await GenerationHarness.StartAsync(
            new Dictionary<string, string?>
            {
                ["Storage:Kind"] = "FileSystem",
                ["Storage:StoreTimeout"] = "00:10:00",
                ["Storage:AttemptTimeout"] = "00:02:00",
            },
            services =>
            {
                services.AddSingleton<IVideoStore>(store);
                services.AddHttpClient(VideoCopier.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => new VideoHandler());
            });
        service.Kling.ScriptStatuses(id => FakeKlingApi.Succeeded(id, "https://cdn.example/owl.mp4", ttl: "3600"));
        var command = GenerationHarness.ValidCommand();

        await service.SendAsync(command);
        await service.PublishedAsync<VideoGenerationSubmitted>();
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(16));
        await store.Started.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var succeededAt = service.Time.GetUtcNow();

        // A client resending its command while the copy runs changes nothing.
        await service.SendAsync(command);
        for (var minute = 0; minute < 12; minute++)
        {
            await service.AdvanceAndSettleAsync(TimeSpan.FromMinutes(1));
            Assert.Empty(service.Published<VideoReady>());
        }

        var ready = await service.AdvanceUntilPublishedAsync<VideoReady>(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5));
        // Waited the store timeout, one try's bound and a minute for the answer, not less.
        Assert.True(service.Time.GetUtcNow() - succeededAt >= TimeSpan.FromMinutes(13), $"Delivered after {service.Time.GetUtcNow() - succeededAt}.");
        Assert.Equal("https://cdn.example/owl.mp4", ready.VideoUrl);
        Assert.Null(ready.StoredVideoUrl);

        // The copy answering at last changes nothing: the job has ended.
        store.Finish();
        await service.AdvanceAndSettleAsync(TimeSpan.FromMinutes(1));
        await Task.Delay(300);
        Assert.Single(service.Published<VideoReady>());
        Assert.Empty(service.Published<VideoFailed>());
    }

    [Fact]
    public async Task A_finished_task_gives_its_account_slot_to_the_next_job_while_its_video_is_copied()
    {
        var store = new StallingStore();
        await using var service = await GenerationHarness.StartAsync(
            new Dictionary<string, string?>
            {
                ["Storage:Kind"] = "FileSystem",
                ["Kling:MaxConcurrentTasks"] = "1",
            },
            services =>
            {
                services.AddSingleton<IVideoStore>(store);
                services.AddHttpClient(VideoCopier.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => new VideoHandler());
            });
        service.Kling.ScriptStatuses(id => FakeKlingApi.Succeeded(id, "https://cdn.example/first.mp4", ttl: "3600"));
        var first = GenerationHarness.ValidCommand();
        var second = GenerationHarness.ValidCommand();

        await service.SendAsync(first);
        await service.SendAsync(second);
        await service.PublishedAsync<VideoGenerationSubmitted>(s => s.RequestId == first.RequestId);
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(16));
        await store.Started.Task.WaitAsync(TimeSpan.FromSeconds(20));

        // The first job is still storing its video, and the account's only slot already works for the second.
        var next = await service.EventuallyPublishedAsync<VideoGenerationSubmitted>(s => s.RequestId == second.RequestId);
        Assert.Empty(service.Published<VideoReady>());
        Assert.Equal(JobState.Generating, (await service.StatusAsync(first.RequestId)).State);
        Assert.Equal(100, (await service.StatusAsync(first.RequestId)).ProgressPercent);
        Assert.NotNull(next.TaskId);
        store.Finish();
    }

    [Fact]
    public async Task A_cancel_that_comes_while_the_finished_video_is_copied_is_too_late_and_the_video_is_delivered()
    {
        var store = new StallingStore();
        await using var service = await GenerationHarness.StartAsync(
            new Dictionary<string, string?> { ["Storage:Kind"] = "FileSystem" },
            services =>
            {
                services.AddSingleton<IVideoStore>(store);
                services.AddHttpClient(VideoCopier.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => new VideoHandler());
            });
        service.Kling.ScriptStatuses(id => FakeKlingApi.Succeeded(id, "https://cdn.example/paid.mp4", ttl: "3600"));
        var command = GenerationHarness.ValidCommand();
        await service.SendAsync(command);
        await service.PublishedAsync<VideoGenerationSubmitted>();
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(16));
        await store.Started.Task.WaitAsync(TimeSpan.FromSeconds(20));

        var cancel = await service.Harness.Bus.GetSendEndpoint(new Uri("queue:cancel-video-generation"));
        await cancel.Send(new CancelVideoGeneration(command.RequestId));
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(1));
        store.Finish();

        var ready = await service.EventuallyPublishedAsync<VideoReady>();
        Assert.Equal($"file:///videos/{ready.TaskId}.mp4", ready.StoredVideoUrl);
        Assert.Empty(service.Published<VideoFailed>());
        Assert.Equal(JobState.Succeeded, (await service.StatusAsync(command.RequestId)).State);
    }

    /// <summary>A store that takes the video and then hangs, until told to finish.</summary>
    private sealed class StallingStore : IVideoStore
    {
        private readonly TaskCompletionSource _finish = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Finish() => _finish.TrySetResult();

        public async Task<StoredLocation> SaveAsync(string key, Stream video, CancellationToken cancellationToken)
        {
            await video.CopyToAsync(Stream.Null, cancellationToken);
            Started.TrySetResult();
            // Cancelled when the harness stops, so a failing test ends instead of waiting for ever.
            await _finish.Task.WaitAsync(cancellationToken);
            return new StoredLocation($"file:///videos/{key}", key);
        }
    }

    /// <summary>The CDN: any video URL serves an MP4.</summary>
    private sealed class VideoHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(SimulatedVideo.BytesFor("owl")) });
    }
}
