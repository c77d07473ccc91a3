using System.Security.Cryptography;
using KlingService.Contracts;
using KlingService.Simulator;
using KlingService.Storage;
using KlingService.Telemetry;
using KlingService.Tests.Fixtures;
using MassTransit;

namespace KlingService.Tests.Storage;

/// <summary>The embedded service, its file-system store, and the simulator serving each task's own MP4 over HTTP.</summary>
public sealed class FileSystemStorageTests
{
    [Fact]
    public async Task Each_finished_video_is_stored_byte_for_byte_before_VideoReady_and_kept_on_its_record()
    {
        await using var service = await EmbeddedService.StartAsync();
        var commands = Enumerable.Range(0, 2).Select(i => new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), $"a harbour at dawn {i}")).ToList();

        var ready = new List<VideoReady>();
        foreach (var command in commands)
        {
            ready.Add(Assert.IsType<VideoReady>(await service.RunAsync(command)));
        }

        foreach (var video in ready)
        {
            var served = SimulatedVideo.BytesFor(video.TaskId);
            var path = new Uri(video.StoredVideoUrl!).LocalPath;
            Assert.Equal(Path.Combine(service.VideoDirectory, $"{video.TaskId}.mp4"), path);
            Assert.Equal(served, await File.ReadAllBytesAsync(path));
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(served)), video.Sha256);
            Assert.Equal(served.Length, video.SizeBytes);
            Assert.Equal($"{video.TaskId}.mp4", video.StorageKey);
            // The provider's URL is still the provider's.
            Assert.Contains($"/videos/{video.TaskId}.mp4?expires=", video.VideoUrl, StringComparison.Ordinal);
        }

        Assert.NotEqual(ready[0].Sha256, ready[1].Sha256);

        // The record keeps the stored copy: the status query shows it, and a repeated command replays it.
        var status = await service.Bus.CreateRequestClient<GetVideoJob>(new Uri("queue:get-video-job"))
            .GetResponse<VideoJobStatus>(new GetVideoJob(commands[0].RequestId));
        Assert.Equal(ready[0].StoredVideoUrl, status.Message.StoredVideoUrl);
        var replayed = Assert.IsType<VideoReady>(await service.RunAsync(commands[0]));
        Assert.Equal(ready[0], replayed);
    }

    [Fact]
    public async Task Unavailable_truncated_and_non_MP4_downloads_are_tried_again_and_no_partial_file_is_ever_kept()
    {
        await using var service = await EmbeddedService.StartAsync(new Dictionary<string, string?>
        {
            // Every video answers 503 for a while after its task finished, then a third of the downloads break
            // off halfway and a fifth are an HTML page: faults after the paid task exists.
            ["Simulator:VideoUnavailableForSeconds"] = "1.5",
            ["Simulator:VideoTruncateRate"] = "0.3",
            ["Simulator:VideoNotMp4Rate"] = "0.2",
            ["Storage:MaxAttempts"] = "40",
            ["Storage:FirstRetryDelay"] = "00:00:00.100",
            ["Storage:MaxRetryDelay"] = "00:00:00.400",
        });
        using var totals = new MeterTotals(service.App.Services, KlingTelemetry.StoreFailureTag);

        var ready = new List<VideoReady>();
        for (var i = 0; i < 3; i++)
        {
            ready.Add(Assert.IsType<VideoReady>(await service.RunAsync(new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), $"rain on a tin roof {i}"))));
        }

        var stats = service.Simulator!.Board.Stats();
        Assert.True(stats.VideoFaults >= 3, $"Every video met at least its unavailable window ({stats.VideoFaults} faults).");
        Assert.Equal(stats.VideoFaults + 3, stats.VideoDownloads);
        foreach (var video in ready)
        {
            Assert.Equal(SimulatedVideo.BytesFor(video.TaskId), await File.ReadAllBytesAsync(new Uri(video.StoredVideoUrl!).LocalPath));
        }

        Assert.Equal(ready.Select(r => $"{r.TaskId}.mp4").Order(), Directory.GetFiles(service.VideoDirectory).Select(Path.GetFileName).Order());
        Assert.Equal(0, totals[KlingTelemetry.StoreFailures]);
    }

    [Fact]
    public async Task A_video_over_the_size_limit_goes_out_with_the_provider_URL_after_one_download()
    {
        await using var service = await EmbeddedService.StartAsync(new Dictionary<string, string?>
        {
            ["Simulator:VideoOversizeBytes"] = "300000",
            ["Storage:MaxVideoBytes"] = "200000",
        });
        using var totals = new MeterTotals(service.App.Services, KlingTelemetry.StoreFailureTag);

        var ready = Assert.IsType<VideoReady>(await service.RunAsync(new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), "an enormous whale")));

        Assert.Contains($"/videos/{ready.TaskId}.mp4?expires=", ready.VideoUrl, StringComparison.Ordinal);
        Assert.Null(ready.StoredVideoUrl);
        Assert.Null(ready.StorageKey);
        Assert.Null(ready.SizeBytes);
        Assert.Null(ready.Sha256);
        Assert.Equal(1, service.Simulator!.Board.Stats().VideoDownloads);
        Assert.Equal(1, totals[$"{KlingTelemetry.StoreFailures}/{StoreFailureReason.TooLarge}"]);
        Assert.Empty(Directory.GetFiles(service.VideoDirectory));
        Assert.Contains(service.Logs.Lines, l => l.Contains("was not stored (TooLarge)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_URL_that_expires_before_a_copy_succeeds_delivers_the_provider_URL_with_a_counted_failure()
    {
        await using var service = await EmbeddedService.StartAsync(new Dictionary<string, string?>
        {
            // The video stays unavailable longer than its URL lives; tries go on until the URL dies, not beyond.
            ["Simulator:VideoUrlTtlSeconds"] = "3",
            ["Simulator:VideoUnavailableForSeconds"] = "60",
            ["Storage:MaxAttempts"] = "100",
            ["Storage:FirstRetryDelay"] = "00:00:00.200",
            ["Storage:MaxRetryDelay"] = "00:00:00.500",
        });
        using var totals = new MeterTotals(service.App.Services, KlingTelemetry.StoreFailureTag);

        var command = new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), "a sandcastle, briefly");
        var ready = Assert.IsType<VideoReady>(await service.RunAsync(command));

        Assert.Null(ready.StoredVideoUrl);
        Assert.Null(ready.Sha256);
        Assert.NotNull(ready.VideoUrlExpiresAt);
        Assert.Equal(1, totals[$"{KlingTelemetry.StoreFailures}/{StoreFailureReason.UrlExpired}"]);
        Assert.True(service.Simulator!.Board.Stats().VideoDownloads >= 3, "The copy was tried while the URL lived.");
        Assert.Empty(Directory.GetFiles(service.VideoDirectory));
        await service.StopAsync();
        // Every host in this process listens to the same activity source: only this job's copy is this test's.
        var span = Assert.Single(service.Spans, s => s.OperationName == KlingTelemetry.StoreVideoSpan
            && Equals(s.GetTagItem(KlingTelemetry.RequestIdTag), command.RequestId.ToString()));
        Assert.Contains(span.Events, e => e.Name == KlingTelemetry.VideoNotStoredEvent
            && Equals(e.Tags.First(t => t.Key == KlingTelemetry.StoreFailureTag).Value, nameof(StoreFailureReason.UrlExpired)));
    }
}
