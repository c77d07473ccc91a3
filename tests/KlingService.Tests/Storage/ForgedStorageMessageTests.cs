using System.Collections.Concurrent;
using System.Net;
using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Simulator;
using KlingService.Storage;
using KlingService.Telemetry;
using KlingService.Tests.Fixtures;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace KlingService.Tests.Storage;

/// <summary>
/// The bus is no way in: a StoreVideo or VideoStored made up by anyone who can publish is checked against the job's
/// own saga, so it can neither make the service fetch a URL of its choosing nor end a job with a video of its choosing.
/// </summary>
public sealed class ForgedStorageMessageTests
{
    private const string ProviderUrl = "https://cdn.example/owl.mp4";

    // Where an attacker would point the copy: the cloud's metadata service.
    private const string AttackerUrl = "http://169.254.169.254/latest/meta-data/iam/security-credentials/";

    [Fact]
    public async Task A_forged_StoreVideo_for_a_storing_job_fetches_nothing_overwrites_nothing_and_the_jobs_own_copy_delivers_its_video()
    {
        await using var scene = await Scene.StartAsync();
        var job = await scene.StoringJobAsync();

        var withoutToken = Forged(job, Guid.Empty);
        var wrongToken = Forged(job, Guid.NewGuid());
        await scene.Service.Harness.Bus.Publish(withoutToken);
        await scene.Service.Harness.Bus.Publish(wrongToken);
        await scene.ConsumedAsync(withoutToken);
        await scene.ConsumedAsync(wrongToken);

        Assert.DoesNotContain(scene.Cdn.Requests, u => u.Host == "169.254.169.254");
        Assert.Single(scene.Store.Saves);
        Assert.Empty(scene.Service.Published<VideoStored>());
        Assert.Equal(2, scene.Totals[$"{KlingTelemetry.BusRejected}/{BusRejection.WrongToken}"]);

        scene.Store.Finish();
        var ready = await scene.Service.EventuallyPublishedAsync<VideoReady>();
        Assert.Equal(ProviderUrl, ready.VideoUrl);
        Assert.Equal($"file:///videos/{job.TaskId}.mp4", ready.StoredVideoUrl);
        Assert.Equal(SimulatedVideo.BytesFor("owl").Length, ready.SizeBytes);
        Assert.Equal(new[] { new Uri(ProviderUrl) }, scene.Cdn.Requests);
    }

    [Fact]
    public async Task A_StoreVideo_carrying_the_jobs_own_token_copies_the_URL_the_provider_gave_not_the_one_in_the_message()
    {
        await using var scene = await Scene.StartAsync();
        var job = await scene.StoringJobAsync();

        // Someone who read the job's StoreVideo off the bus, token and all, and changed the URL.
        var replayed = Forged(job, job.StoreToken!.Value);
        await scene.Service.Harness.Bus.Publish(replayed);
        scene.Store.Finish();
        await scene.ConsumedAsync(replayed);

        Assert.DoesNotContain(scene.Cdn.Requests, u => u.Host == "169.254.169.254");
        Assert.All(scene.Cdn.Requests, u => Assert.Equal(new Uri(ProviderUrl), u));
        Assert.All(scene.Store.Saves, key => Assert.Equal($"{job.TaskId}.mp4", key));
        var ready = await scene.Service.EventuallyPublishedAsync<VideoReady>();
        Assert.Equal($"file:///videos/{job.TaskId}.mp4", ready.StoredVideoUrl);
    }

    [Fact]
    public async Task A_forged_StoreVideo_for_a_job_still_generating_fetches_nothing_and_answers_nothing()
    {
        await using var scene = await Scene.StartAsync();
        scene.Service.Kling.ScriptStatuses(id => FakeKlingApi.Processing(id, 40, 60));
        await scene.Service.SendAsync(GenerationHarness.ValidCommand());
        var submitted = await scene.Service.PublishedAsync<VideoGenerationSubmitted>();
        var forged = new StoreVideo(
            TaskCorrelation.FromTaskId(submitted.TaskId), submitted.RequestId, submitted.TaskId, AttackerUrl, null, scene.Service.Time.GetUtcNow().AddHours(1), Guid.NewGuid());

        await scene.Service.Harness.Bus.Publish(forged);
        await scene.ConsumedAsync(forged);

        Assert.Empty(scene.Cdn.Requests);
        Assert.Empty(scene.Store.Saves);
        Assert.Empty(scene.Service.Published<VideoStored>());
        Assert.Equal(1, scene.Totals[$"{KlingTelemetry.BusRejected}/{BusRejection.NotStoring}"]);
    }

    [Fact]
    public async Task A_forged_StoreVideo_for_a_task_nobody_tracks_fetches_nothing_and_stores_nothing()
    {
        await using var scene = await Scene.StartAsync();
        const string taskId = "task-of-someone-else";
        var forged = new StoreVideo(
            TaskCorrelation.FromTaskId(taskId), Guid.NewGuid(), taskId, AttackerUrl, null, scene.Service.Time.GetUtcNow().AddHours(1), Guid.NewGuid());

        await scene.Service.Harness.Bus.Publish(forged);
        await scene.ConsumedAsync(forged);

        Assert.Empty(scene.Cdn.Requests);
        Assert.Empty(scene.Store.Saves);
        Assert.Empty(scene.Service.Published<VideoStored>());
        Assert.Equal(1, scene.Totals[$"{KlingTelemetry.BusRejected}/{BusRejection.UnknownJob}"]);
    }

    [Fact]
    public async Task A_forged_VideoStored_without_the_jobs_token_does_not_end_it_and_the_real_copy_ends_it_with_the_right_video()
    {
        await using var scene = await Scene.StartAsync();
        var job = await scene.StoringJobAsync();
        var planted = new StoredVideo("https://attacker.example/planted.mp4", "planted.mp4", 1, new string('0', 64));

        var withoutToken = new VideoStored(job.CorrelationId, job.TaskId, planted, null, Guid.Empty);
        var wrongToken = new VideoStored(job.CorrelationId, job.TaskId, planted, null, Guid.NewGuid());
        await scene.Service.Harness.Bus.Publish(withoutToken);
        await scene.Service.Harness.Bus.Publish(wrongToken);
        await scene.ConsumedAsync(withoutToken);
        await scene.ConsumedAsync(wrongToken);

        Assert.Empty(scene.Service.Published<VideoReady>());
        Assert.Equal(JobState.Generating, (await scene.Service.StatusAsync(job.RequestId)).State);
        Assert.Equal(2, scene.Totals[$"{KlingTelemetry.BusRejected}/{BusRejection.WrongToken}"]);

        scene.Store.Finish();
        var ready = await scene.Service.EventuallyPublishedAsync<VideoReady>();
        Assert.Equal($"file:///videos/{job.TaskId}.mp4", ready.StoredVideoUrl);
        Assert.Equal($"{job.TaskId}.mp4", ready.StorageKey);
        Assert.Single(scene.Service.Published<VideoReady>());
        Assert.Equal(ready.StoredVideoUrl, (await scene.Service.StatusAsync(job.RequestId)).StoredVideoUrl);
    }

    [Fact]
    public async Task A_forged_VideoStored_for_a_job_still_generating_is_dropped_without_a_fault_and_the_job_goes_on()
    {
        await using var scene = await Scene.StartAsync();
        scene.Service.Kling.ScriptStatuses(id => FakeKlingApi.Processing(id, 40, 60), id => FakeKlingApi.Succeeded(id, ProviderUrl, ttl: "3600"));
        await scene.Service.SendAsync(GenerationHarness.ValidCommand());
        var submitted = await scene.Service.PublishedAsync<VideoGenerationSubmitted>();
        var planted = new StoredVideo("https://attacker.example/planted.mp4", "planted.mp4", 1, new string('0', 64));
        var forged = new VideoStored(TaskCorrelation.FromTaskId(submitted.TaskId), submitted.TaskId, planted, null, Guid.NewGuid());

        await scene.Service.Harness.Bus.Publish(forged);
        await scene.ConsumedAsync(forged);

        Assert.False(await scene.Service.Harness.Published.Any<Fault<VideoStored>>());
        Assert.Empty(scene.Service.Published<VideoReady>());
        Assert.Equal(1, scene.Totals[$"{KlingTelemetry.BusRejected}/{BusRejection.NotStoring}"]);

        scene.Store.Finish();
        var ready = await scene.Service.AdvanceUntilPublishedAsync<VideoReady>(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5));
        Assert.Equal($"file:///videos/{submitted.TaskId}.mp4", ready.StoredVideoUrl);
    }

    private static StoreVideo Forged(VideoJobState job, Guid token) =>
        new(job.CorrelationId, job.RequestId, job.TaskId, AttackerUrl, null, DateTimeOffset.MaxValue, token);

    /// <summary>The service with storage on, its copies held in the store until the test lets them finish.</summary>
    private sealed class Scene : IAsyncDisposable
    {
        private Scene(GenerationHarness service, HoldingStore store, RecordingCdn cdn)
        {
            Service = service;
            Store = store;
            Cdn = cdn;
            Totals = new MeterTotals(service.Services, KlingTelemetry.RejectReasonTag);
        }

        public GenerationHarness Service { get; }

        public HoldingStore Store { get; }

        public RecordingCdn Cdn { get; }

        public MeterTotals Totals { get; }

        public static async Task<Scene> StartAsync()
        {
            var store = new HoldingStore();
            var cdn = new RecordingCdn();
            var service = await GenerationHarness.StartAsync(
                new Dictionary<string, string?> { ["Storage:Kind"] = "FileSystem" },
                services =>
                {
                    services.AddSingleton<IVideoStore>(store);
                    services.AddHttpClient(VideoCopier.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => cdn);
                });
            return new Scene(service, store, cdn);
        }

        /// <summary>A job whose task succeeded and whose own copy has begun (and is held): its saga, as stored.</summary>
        public async Task<VideoJobState> StoringJobAsync()
        {
            Service.Kling.ScriptStatuses(id => FakeKlingApi.Succeeded(id, ProviderUrl, ttl: "3600"));
            await Service.SendAsync(GenerationHarness.ValidCommand());
            var submitted = await Service.PublishedAsync<VideoGenerationSubmitted>();
            await Service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(16));
            await Store.Started.Task.WaitAsync(TimeSpan.FromSeconds(20));
            var job = await Service.Services.GetRequiredService<ILoadSagaRepository<VideoJobState>>().Load(TaskCorrelation.FromTaskId(submitted.TaskId));
            Assert.Equal(nameof(VideoJobStateMachine.Storing), job.CurrentState);
            return job;
        }

        /// <summary>
        /// Waits until the service has handled this very message. Polled: once the harness has been quiet past its
        /// inactivity timeout, its own waits answer at once with what is there.
        /// </summary>
        public async Task ConsumedAsync<T>(T message)
            where T : class
        {
            var giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (!Service.Harness.Consumed.Select<T>(m => m.Context.Message.Equals(message)).Any())
            {
                Assert.True(
                    DateTime.UtcNow < giveUp,
                    $"The {typeof(T).Name} was not consumed within 20 s; URLs fetched: [{string.Join(", ", Cdn.Requests)}], keys saved: [{string.Join(", ", Store.Saves)}].");
                await Task.Delay(20);
            }
        }

        public async ValueTask DisposeAsync()
        {
            // A copy still held would keep the bus from stopping.
            Store.Finish();
            Totals.Dispose();
            await Service.DisposeAsync();
        }
    }

    /// <summary>Takes each video whole, then holds the first save until told to finish; keeps every key saved.</summary>
    private sealed class HoldingStore : IVideoStore
    {
        private readonly TaskCompletionSource _finish = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentQueue<string> _saves = new();

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IReadOnlyCollection<string> Saves => _saves;

        public void Finish() => _finish.TrySetResult();

        public async Task<StoredLocation> SaveAsync(string key, Stream video, CancellationToken cancellationToken)
        {
            await video.CopyToAsync(Stream.Null, cancellationToken);
            _saves.Enqueue(key);
            Started.TrySetResult();
            // Cancelled when the harness stops, so a failing test ends instead of waiting for ever.
            await _finish.Task.WaitAsync(cancellationToken);
            return new StoredLocation($"file:///videos/{key}", key);
        }
    }

    /// <summary>
    /// Every host the copy could reach: answers any URL with an MP4 (so a fetch of the wrong URL would go on to be
    /// stored) and keeps each URL asked for.
    /// </summary>
    private sealed class RecordingCdn : HttpMessageHandler
    {
        private readonly ConcurrentQueue<Uri> _requests = new();

        public IReadOnlyCollection<Uri> Requests => _requests;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            _requests.Enqueue(request.RequestUri!);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(SimulatedVideo.BytesFor("owl")) });
        }
    }
}
