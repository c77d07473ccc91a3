using System.Security.Cryptography;
using KlingService.Contracts;
using KlingService.Simulator;
using KlingService.Telemetry;
using KlingService.Tests.Fixtures;
using MassTransit;

namespace KlingService.Tests.Integration;

/// <summary>
/// The service on RabbitMQ and PostgreSQL storing into a real S3-protocol server (s3rver over HTTP), with the
/// simulator serving each task's own MP4.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class S3StorageTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    private const int PartSize = 5 * 1024 * 1024;
    private LocalS3 _s3 = null!;

    public async Task InitializeAsync()
    {
        _s3 = await LocalS3.StartAsync();
        // The SDK's standard credential chain reads these, as it would in production.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", LocalS3.AccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", LocalS3.SecretKey);
    }

    public async Task DisposeAsync() => await _s3.DisposeAsync();

    [Fact]
    public async Task A_video_goes_to_the_bucket_and_its_presigned_URL_serves_the_exact_bytes_also_from_the_record()
    {
        await using var service = await StartServiceAsync();
        var command = new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), "a paper boat in a gutter");

        var ready = Assert.IsType<VideoReady>(await service.RunAsync(command));

        var served = SimulatedVideo.BytesFor(ready.TaskId);
        Assert.Equal($"jobs/{ready.TaskId}.mp4", ready.StorageKey);
        Assert.Contains("X-Amz-Signature=", ready.StoredVideoUrl, StringComparison.Ordinal);
        Assert.Equal(served, await DownloadAsync(ready.StoredVideoUrl!));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(served)), ready.Sha256);
        Assert.Equal(served.Length, ready.SizeBytes);

        // The record in PostgreSQL keeps the stored copy: the status query shows it and a repeated command replays it.
        var status = await service.Bus.CreateRequestClient<GetVideoJob>(new Uri("queue:get-video-job"))
            .GetResponse<VideoJobStatus>(new GetVideoJob(command.RequestId));
        Assert.Equal(ready.StoredVideoUrl, status.Message.StoredVideoUrl);
        Assert.Equal(ready, Assert.IsType<VideoReady>(await service.RunAsync(command)));
    }

    [Fact]
    public async Task A_video_above_the_part_size_goes_up_in_parts_and_comes_back_whole()
    {
        const long size = (2 * PartSize) + 123_457;
        await using var service = await StartServiceAsync(new Dictionary<string, string?> { ["Simulator:VideoOversizeBytes"] = size.ToString() });

        var ready = Assert.IsType<VideoReady>(await service.RunAsync(new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), "a very long train")));

        var stored = await DownloadAsync(ready.StoredVideoUrl!);
        Assert.Equal(size, stored.LongLength);
        Assert.Equal(size, ready.SizeBytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(stored)), ready.Sha256);
        Assert.Equal(SimulatedVideo.BytesFor(ready.TaskId), stored[..SimulatedVideo.BytesFor(ready.TaskId).Length]);
        Assert.Equal(3, _s3.PartsStored);
    }

    [Fact]
    public async Task A_store_that_is_down_when_the_video_is_ready_is_tried_again_and_the_video_stored_once_it_is_back()
    {
        await using var service = await StartServiceAsync(new Dictionary<string, string?>
        {
            ["Storage:FirstRetryDelay"] = "00:00:00.500",
            ["Storage:MaxRetryDelay"] = "00:00:01",
            ["Storage:MaxAttempts"] = "60",
        });
        using var totals = new MeterTotals(service.App.Services, KlingTelemetry.StoreFailureTag);
        await _s3.StopAsync();

        var run = service.RunAsync(new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), "a lighthouse in a storm"));
        await ExternalProcess.UntilAsync(
            () => service.Logs.Lines.Count(l => l.Contains("failed (StoreFailed)", StringComparison.Ordinal)) >= 2, TimeSpan.FromSeconds(60), "No two failed copies within a minute.");
        Assert.False(run.IsCompleted, "VideoReady waits for the copy while the provider's URL is valid.");
        await _s3.StartServerAsync();

        var ready = Assert.IsType<VideoReady>(await run);
        Assert.Equal(SimulatedVideo.BytesFor(ready.TaskId), await DownloadAsync(ready.StoredVideoUrl!));
        Assert.Equal(0, totals[KlingTelemetry.StoreFailures]);
    }

    private async Task<EmbeddedService> StartServiceAsync(Dictionary<string, string?>? settings = null)
    {
        var environment = await infrastructure.CreateEnvironmentAsync();
        var configuration = new Dictionary<string, string?>
        {
            ["ConnectionStrings:RabbitMq"] = environment.RabbitMq.ToString(),
            ["ConnectionStrings:Postgres"] = environment.Postgres,
            ["Storage:Kind"] = "S3",
            ["Storage:S3:ServiceUrl"] = _s3.ServiceUrl.ToString(),
            ["Storage:S3:Bucket"] = LocalS3.Bucket,
            ["Storage:S3:Prefix"] = "jobs/",
            ["Storage:S3:PartSize"] = PartSize.ToString(),
        };
        foreach (var (key, value) in settings ?? [])
        {
            configuration[key] = value;
        }

        return await EmbeddedService.StartAsync(configuration);
    }

    private static async Task<byte[]> DownloadAsync(string url)
    {
        // A plain client, as a subscriber would fetch it: the URL carries its own signature.
        using var http = new HttpClient();
        return await http.GetByteArrayAsync(url);
    }
}
