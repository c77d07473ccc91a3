using System.Net;
using System.Net.Sockets;
using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Simulator;
using KlingService.Storage;
using KlingService.Telemetry;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Integration;

/// <summary>
/// The service on RabbitMQ and PostgreSQL: a StoreVideo put straight on its queue by someone else, pointing at a
/// server of theirs, is checked against the jobs in PostgreSQL and fetches nothing.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class ForgedStoreVideoTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public async Task A_StoreVideo_put_on_the_queue_by_someone_else_fetches_nothing_and_leaves_the_stored_video_as_it_was()
    {
        using var attacker = new CountingServer();
        var environment = await infrastructure.CreateEnvironmentAsync();
        await using var service = await EmbeddedService.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:RabbitMq"] = environment.RabbitMq.ToString(),
            ["ConnectionStrings:Postgres"] = environment.Postgres,
            ["Storage:Kind"] = "FileSystem",
        });
        using var totals = new MeterTotals(service.App.Services, KlingTelemetry.RejectReasonTag);
        var ready = Assert.IsType<VideoReady>(await service.RunAsync(new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), "a kite over a beach")));
        var storedFile = Path.Combine(service.VideoDirectory, ready.StorageKey!);
        var stored = await File.ReadAllBytesAsync(storedFile);

        // One for the task that just ended (its stored video the prize), one for a task nobody tracks.
        var queue = await service.Bus.GetSendEndpoint(new Uri("queue:store-video"));
        var giveUpAt = DateTimeOffset.UtcNow.AddHours(1);
        await queue.Send(new StoreVideo(TaskCorrelation.FromTaskId(ready.TaskId), ready.RequestId, ready.TaskId, attacker.Url, null, giveUpAt, Guid.NewGuid()));
        await queue.Send(new StoreVideo(TaskCorrelation.FromTaskId("task-nobody"), Guid.NewGuid(), "task-nobody", attacker.Url, null, giveUpAt, Guid.Empty));

        await ExternalProcess.UntilAsync(
            () => totals[$"{KlingTelemetry.BusRejected}/{BusRejection.UnknownJob}"] >= 2 || attacker.Connections > 0,
            TimeSpan.FromSeconds(30),
            "The forged StoreVideos were neither dropped nor acted on within 30 s.");
        Assert.Equal(0, attacker.Connections);
        Assert.Equal(2, totals[$"{KlingTelemetry.BusRejected}/{BusRejection.UnknownJob}"]);
        Assert.Equal(stored, await File.ReadAllBytesAsync(storedFile));
        Assert.Equal(SimulatedVideo.BytesFor(ready.TaskId), stored);
        Assert.False(File.Exists(Path.Combine(service.VideoDirectory, StorageKeys.For("task-nobody"))));
        Assert.Contains(service.Logs.Lines, l => l.Contains("Dropped a StoreVideo naming task task-nobody", StringComparison.Ordinal));
    }

    /// <summary>A server of the attacker's on this machine: counts every connection made to it, and answers an MP4 to none.</summary>
    private sealed class CountingServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private int _connections;

        public CountingServer()
        {
            _listener.Start();
            _ = AcceptAsync();
        }

        public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/latest/meta-data/";

        public int Connections => Volatile.Read(ref _connections);

        public void Dispose() => _listener.Stop();

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    using var client = await _listener.AcceptTcpClientAsync();
                    Interlocked.Increment(ref _connections);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }
    }
}
