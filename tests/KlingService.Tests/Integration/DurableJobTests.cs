using KlingService.Contracts;
using KlingService.Simulator;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Integration;

/// <summary>
/// The service as a separate process on real RabbitMQ and PostgreSQL, against the simulator over
/// HTTP: crashes, restarts and several instances must lose no job and create no task twice.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class DurableJobTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    private static readonly TimeSpan JobsTimeout = TimeSpan.FromMinutes(3);

    private readonly List<ServiceProcess> _services = [];
    private TestEnvironment _environment = null!;
    private RunningSimulator _simulator = null!;
    private BusClient _client = null!;

    public async Task InitializeAsync()
    {
        _environment = await infrastructure.CreateEnvironmentAsync();
        _simulator = await KlingSimulator.StartAsync(new SimulatorOptions { QueueSeconds = 1, ProcessingSeconds = 4, Jitter = 0.5, Seed = 7 });
        _client = await BusClient.StartAsync(_environment.RabbitMq);
    }

    public async Task DisposeAsync()
    {
        foreach (var service in _services)
        {
            await service.DisposeAsync();
        }

        await _client.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public async Task Every_job_ends_once_and_is_created_once_when_the_service_is_killed_mid_run()
    {
        const int jobs = 200;
        var first = await StartServiceAsync();
        var commands = Commands(jobs);
        await _client.SendAsync(commands);

        // Kill -9 once jobs are in every stage: some created, some still queued, none finished.
        await WaitUntilAsync(() => _simulator.Board.Stats().CreateCalls >= jobs / 2);
        await first.KillAsync();
        await StartServiceAsync();

        Assert.Equal(jobs, await _client.WaitForTerminalAsync(jobs, JobsTimeout));
        await AssertSettledAsync(commands);
        Assert.Equal(jobs, _client.Terminal.OfType<VideoReady>().Count());
    }

    [Fact]
    public async Task Two_instances_share_the_work_and_every_job_ends_once()
    {
        const int jobs = 100;
        var first = await StartServiceAsync();
        var second = await StartServiceAsync();
        var commands = Commands(jobs);

        await _client.SendAsync(commands);

        Assert.Equal(jobs, await _client.WaitForTerminalAsync(jobs, JobsTimeout));
        await AssertSettledAsync(commands);
        var createdByFirst = first.Count("submitted as Kling task");
        var createdBySecond = second.Count("submitted as Kling task");
        Assert.Equal(jobs, createdByFirst + createdBySecond);
        Assert.True(createdByFirst > 0 && createdBySecond > 0, $"One instance did all the work: {createdByFirst} / {createdBySecond}.");
    }

    [Fact]
    public async Task Every_job_ends_once_when_the_broker_restarts_mid_run()
    {
        var broker = infrastructure.LocalRabbitMq;
        Assert.True(broker is not null, "This test restarts the broker, so it needs the locally started RabbitMQ (unset RABBITMQ_URL).");
        const int jobs = 60;
        await StartServiceAsync();
        var commands = Commands(jobs);
        await _client.SendAsync(commands);

        await WaitUntilAsync(() => _simulator.Board.Stats().CreateCalls >= jobs / 2);
        await broker.KillAsync();
        await broker.StartServerAsync();

        Assert.Equal(jobs, await _client.WaitForTerminalAsync(jobs, JobsTimeout));
        await AssertSettledAsync(commands);
    }

    [Fact]
    public async Task Every_job_ends_once_when_the_database_restarts_mid_run()
    {
        var database = infrastructure.LocalPostgres;
        Assert.True(database is not null, "This test restarts the database, so it needs the locally started PostgreSQL (unset POSTGRES_URL).");
        const int jobs = 60;
        await StartServiceAsync();
        var commands = Commands(jobs);
        await _client.SendAsync(commands);

        await WaitUntilAsync(() => _simulator.Board.Stats().CreateCalls >= jobs / 2);
        await database.KillAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        await database.StartServerAsync();

        Assert.Equal(jobs, await _client.WaitForTerminalAsync(jobs, JobsTimeout));
        await AssertSettledAsync(commands);
    }

    private async Task<ServiceProcess> StartServiceAsync()
    {
        var service = await ServiceProcess.StartAsync(_environment, _simulator.BaseAddress, _simulator.Options.ApiKey);
        _services.Add(service);
        return service;
    }

    private static List<GenerateVideo> Commands(int count) =>
        Enumerable.Range(0, count)
            .Select(i => new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), $"job {i}", i % 3 == 0 ? VideoMode.Professional : VideoMode.Standard, i % 2 == 0 ? 5 : 10))
            .ToList();

    /// <summary>One terminal event per request, one task per request, nothing more after things settle.</summary>
    private async Task AssertSettledAsync(IReadOnlyCollection<GenerateVideo> commands)
    {
        // Give late duplicates (redeliveries after the restart) the chance to show up before counting.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var terminalPerRequest = _client.Terminal
            .Select(e => e switch { VideoReady r => r.RequestId, VideoFailed f => f.RequestId, _ => Guid.Empty })
            .GroupBy(id => id)
            .ToDictionary(g => g.Key, g => g.Count());
        var failures = _client.Terminal.OfType<VideoFailed>().Select(f => $"{f.Reason}: {f.Message}").Take(5);

        Assert.Equal(commands.Select(c => c.RequestId).Order(), terminalPerRequest.Keys.Order());
        Assert.All(terminalPerRequest, pair => Assert.Equal(1, pair.Value));
        Assert.Equal(commands.Count, _simulator.Board.Stats().CreateCalls);
        Assert.True(_client.Terminal.All(e => e is VideoReady), string.Join(Environment.NewLine, failures));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var giveUp = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < giveUp, "The service made no progress.");
            await Task.Delay(50);
        }
    }
}
