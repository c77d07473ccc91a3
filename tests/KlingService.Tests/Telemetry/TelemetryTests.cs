using KlingService.Contracts;
using KlingService.Telemetry;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Telemetry;

public sealed class TelemetryTests
{
    private const string SecretKey = "sk-live-7f3a9c-do-not-leak-0a1b2c3d4e5f";

    [Fact]
    public async Task One_job_is_one_trace_from_the_clients_send_through_every_check_to_VideoReady()
    {
        await using var service = await EmbeddedService.StartAsync();
        var command = new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), "a kite over dunes", VideoMode.Professional, 10);

        Assert.IsType<VideoReady>(await service.RunAsync(command));
        await service.StopAsync();

        var statusCalls = (int)service.Simulator!.Board.Stats().StatusCalls;
        TraceAssertions.AssertOneTracePerJob(service.Spans, command.RequestId, statusCalls);
    }

    [Fact]
    public async Task No_api_key_authorization_header_or_image_data_reaches_any_span_or_log()
    {
        await using var service = await EmbeddedService.StartAsync(new Dictionary<string, string?> { ["Simulator:ApiKey"] = SecretKey });
        var image = Images.Base64Png(640, 480);
        await service.RunAsync(new GenerateVideo(Guid.NewGuid(), image, "ready", VideoMode.Standard, 5));
        await service.RunAsync(new GenerateVideo(Guid.NewGuid(), image, "[fail] failing", VideoMode.Standard, 5));
        await service.RunAsync(new GenerateVideo(Guid.NewGuid(), image, "rejected", VideoMode.Standard, 7));
        await service.StopAsync();

        var spanText = service.Spans.SelectMany(s => s.TagObjects.Select(t => $"{t.Key}={t.Value}")
            .Concat(s.Events.Select(e => e.Name))
            .Append(s.DisplayName)
            .Append(s.StatusDescription ?? ""));
        var everything = string.Join('\n', spanText.Concat(service.Logs.Lines));

        Assert.NotEmpty(service.Logs.Lines);
        Assert.DoesNotContain(SecretKey, everything, StringComparison.Ordinal);
        Assert.DoesNotContain("Bearer", everything, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(image[..32], everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_count_the_jobs_that_were_run()
    {
        await using var service = await EmbeddedService.StartAsync();
        using var totals = new MeterTotals(service.App.Services, KlingTelemetry.ReasonTag);

        for (var i = 0; i < 3; i++)
        {
            await service.RunAsync(new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), $"ready {i}"));
        }

        await service.RunAsync(new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), "[fail] no luck"));
        await service.RunAsync(new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), "", VideoMode.Standard, 5));
        await service.StopAsync();

        Assert.Equal(4, totals[KlingTelemetry.JobsSubmitted]);
        Assert.Equal(3, totals[KlingTelemetry.JobsSucceeded]);
        Assert.Equal(1, totals[$"{KlingTelemetry.JobsFailed}/GenerationFailed"]);
        Assert.Equal(1, totals[$"{KlingTelemetry.JobsFailed}/InvalidRequest"]);
        Assert.Equal(0, totals[KlingTelemetry.JobsInFlight]);
        Assert.Equal(3, totals[KlingTelemetry.GenerationTime]);
        Assert.Equal(4, totals[KlingTelemetry.StatusChecksPerJob]);
        Assert.True(totals[KlingTelemetry.ApiCallDuration] >= 4 + 4, "Every create and status call is timed.");
        // Each video was kept (the embedded default store), each copy timed, none failed.
        Assert.Equal(3, totals[KlingTelemetry.StoreDuration]);
        Assert.True(totals[KlingTelemetry.StoredBytes] > 3 * 1000, "The stored bytes are counted.");
        Assert.Equal(0, totals[KlingTelemetry.StoreFailures]);
    }
}
