using KlingService.Contracts;
using KlingService.Simulator;
using KlingService.Tests.Fixtures;
using Npgsql;

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
        _simulator = await KlingSimulator.StartAsync(new SimulatorOptions { QueueSeconds = 1, ProcessingSeconds = 8, Jitter = 0.5, Seed = 7 });
        _client = await BusClient.StartAsync(_environment.RabbitMq);
    }

    public async Task DisposeAsync()
    {
        var logs = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "kling-service-logs")).FullName;
        for (var i = 0; i < _services.Count; i++)
        {
            await _services[i].DisposeAsync();
            await File.WriteAllTextAsync(Path.Combine(logs, $"{_environment.Postgres.GetHashCode():x}-{i}.log"), _services[i].Output);
        }

        await _client.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public async Task Killing_the_service_while_jobs_generate_loses_none_and_creates_none_twice()
    {
        const int jobs = 200;
        var first = await StartServiceAsync();
        var commands = Commands(jobs);
        await _client.SendAsync(commands);

        // Every task created and its id stored, most still generating: kill -9, start again.
        await WaitUntilAsync(async () => (await LedgerAsync()).Recorded == jobs);
        await first.KillAsync();
        await StartServiceAsync();

        Assert.Equal(jobs, await _client.WaitForTerminalAsync(jobs, JobsTimeout));
        await AssertSettledAsync(commands);
        Assert.Equal(jobs, _simulator.Board.Stats().CreateCalls);
    }

    [Fact]
    public async Task Killing_the_service_mid_create_loses_no_job_and_repeats_only_the_creates_caught_in_flight()
    {
        const int jobs = 200;
        var first = await StartServiceAsync();
        var commands = Commands(jobs);
        await _client.SendAsync(commands);

        await WaitUntilAsync(() => Task.FromResult(_simulator.Board.Stats().CreateCalls >= jobs / 2));
        await first.KillAsync();
        // Claimed but never recorded: the create calls whose answer died with the process.
        var inFlight = (await LedgerAsync()).Claimed;
        await StartServiceAsync();

        Assert.Equal(jobs, await _client.WaitForTerminalAsync(jobs, JobsTimeout));
        await AssertSettledAsync(commands);
        var repeated = _simulator.Board.Stats().CreateCalls - jobs;
        Assert.InRange(repeated, 0, inFlight);
        Console.WriteLine($"kill -9 mid-create: {inFlight} create calls in flight, {repeated} repeated after the restart");
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
        Assert.Equal(jobs, _simulator.Board.Stats().CreateCalls);
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

        await WaitUntilAsync(() => Task.FromResult(_simulator.Board.Stats().CreateCalls >= jobs / 2));
        await broker.KillAsync();
        await broker.StartServerAsync();

        var ended = await _client.WaitForTerminalAsync(jobs, JobsTimeout);
        Assert.True(ended == jobs, $"{ended} of {jobs} jobs ended. Queues:{Environment.NewLine}{await broker.DescribeQueuesAsync(_environment.RabbitMq)}");
        await AssertSettledAsync(commands);
        Assert.Equal(jobs, _simulator.Board.Stats().CreateCalls);
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

        await WaitUntilAsync(() => Task.FromResult(_simulator.Board.Stats().CreateCalls >= jobs / 2));
        await database.KillAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        await database.StartServerAsync();

        Assert.Equal(jobs, await _client.WaitForTerminalAsync(jobs, JobsTimeout));
        await AssertSettledAsync(commands);
        Assert.Equal(jobs, _simulator.Board.Stats().CreateCalls);
    }

    private async Task<ServiceProcess> StartServiceAsync()
    {
        // A short request timeout keeps create claims short, so a crashed attempt's claim lapses quickly.
        var service = await ServiceProcess.StartAsync(_environment, _simulator.BaseAddress, _simulator.Options.ApiKey,
            new Dictionary<string, string> { ["Kling__RequestTimeout"] = "00:00:05" });
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
        Assert.True(_client.Terminal.All(e => e is VideoReady), string.Join(Environment.NewLine, failures));
    }

    private async Task<(int Recorded, int Claimed)> LedgerAsync()
    {
        await using var connection = new NpgsqlConnection(_environment.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(task_id), count(*) FILTER (WHERE task_id IS NULL AND ended_at IS NULL AND lease_until > now()) FROM kling_request_ledger", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return ((int)reader.GetInt64(0), (int)reader.GetInt64(1));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var giveUp = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < giveUp, "The service made no progress.");
            await Task.Delay(50);
        }
    }
}
