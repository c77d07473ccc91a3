using KlingService.Contracts;
using KlingService.Simulator;
using KlingService.Tests.Fixtures;
using Npgsql;
using Xunit.Abstractions;

namespace KlingService.Tests.Integration;

/// <summary>
/// The service as a separate process on real RabbitMQ and PostgreSQL, against the simulator over
/// HTTP: crashes, restarts and several instances must lose no job and create no task twice.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class DurableJobTests(InfrastructureFixture infrastructure, ITestOutputHelper output) : IAsyncLifetime
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
        await WaitUntilAsync(async () => await RecordedAsync() == jobs);
        await first.KillAsync();
        await StartServiceAsync();

        Assert.Equal(jobs, await _client.WaitForTerminalAsync(jobs, JobsTimeout));
        await AssertSettledAsync(commands);
        Assert.Equal(jobs, _simulator.Board.Stats().CreateCalls);
    }

    [Theory]
    [InlineData(ConnectionMode.KeepAlive)]
    // A provider that answers as HTTP/1.0 and closes after each answer: no create may ride a connection it closed.
    [InlineData(ConnectionMode.Http10CloseAfterAnswer)]
    public async Task Killing_the_service_mid_create_loses_no_job_pays_for_none_twice_and_ends_the_creates_caught_in_flight_as_CreateOutcomeUnknown(
        ConnectionMode connections)
    {
        const int jobs = 200;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Some answers take 2 s to arrive in full (well within the create timeout, so never a failure):
        // the kill always catches create calls mid-way, not only the few milliseconds of a quick one.
        await _simulator.DisposeAsync();
        _simulator = await KlingSimulator.StartAsync(new SimulatorOptions
        {
            QueueSeconds = 1, ProcessingSeconds = 8, Jitter = 0.5, Seed = 7, SlowBodyRate = 0.3, SlowBodySeconds = 2, Connections = connections,
        });
        // A short create timeout: a claim its holder left mid-call is taken as abandoned CreateTimeout + 30 s after its lease lapsed.
        var first = await StartServiceAsync(MidCreateSettings);
        var commands = Commands(jobs);
        await _client.SendAsync(commands);

        await WaitUntilAsync(() => Task.FromResult(_simulator.Board.Stats().CreateCalls >= jobs / 2));
        await first.KillAsync();
        var killedAt = DateTimeOffset.UtcNow;
        // Claimed but never recorded: the create calls whose answer died with the process. Some reached
        // the provider (and were charged), some not; no one can tell which, so none may be made again.
        var inFlight = await ClaimedAsync();
        // The provider's own record: creates that reached it and whose answer never went out whole to a caller still there.
        var atKill = _simulator.Board.Stats();
        var unanswered = atKill.CreatesStarted - atKill.CreatesAnswered;
        await StartServiceAsync(MidCreateSettings);

        Assert.Equal(jobs, await _client.WaitForTerminalAsync(jobs, JobsTimeout));
        var unknown = _client.Terminal.OfType<VideoFailed>().Where(f => f.Reason == VideoFailureReason.CreateOutcomeUnknown).ToList();
        var ready = _client.Terminal.OfType<VideoReady>().Count();
        output.WriteLine($"kill -9 mid-create ({connections}): {inFlight.Count} claimed, {unanswered} creates unanswered at the provider, " +
            $"{unknown.Count} ended CreateOutcomeUnknown, {ready} ready; " +
            $"tasks created {_simulator.Board.Stats().TasksCreated}, duplicate prompts {_simulator.Board.Stats().DuplicatePrompts}; {clock.Elapsed:g}");
        // Every job ready but those caught in flight, and each of those CreateOutcomeUnknown.
        await AssertSettledAsync(commands, inFlight);
        var stats = _simulator.Board.Stats();

        // Not one job paid for twice: every prompt is its job's own, and no prompt has two tasks.
        Assert.Equal(0, stats.DuplicatePrompts);
        // The jobs caught in flight, and only those, end as CreateOutcomeUnknown, saying they may have been charged.
        Assert.True(inFlight.Count > 0, "The kill should have caught at least one create call in flight.");
        Assert.Subset(inFlight, unknown.Select(f => f.RequestId).ToHashSet());
        Assert.InRange(unknown.Count, 1, inFlight.Count);
        // And only if its create was really in flight when the process died, by the provider's record: the provider had
        // not answered it, or had only just answered (the task id still on its way to the database), or it had not reached
        // the provider yet (the kill came between the claim and the call). A create reset on a connection the provider had
        // closed fails in a live process, so its job is not among those claimed at the kill (checked above).
        var prompts = commands.ToDictionary(c => c.RequestId, c => c.Prompt);
        var tasksByPrompt = _simulator.Board.TasksByPrompt();
        var withTask = unknown.Where(f => tasksByPrompt.Contains(prompts[f.RequestId])).ToList();
        var answeredJustBefore = withTask
            .Select(f => tasksByPrompt[prompts[f.RequestId]].Select(t => _simulator.Board.IdDeliveredAt(t.TaskId)).First())
            .OfType<DateTimeOffset>()
            .ToList();
        output.WriteLine($"unknown: {unknown.Count - withTask.Count} never reached the provider, {answeredJustBefore.Count} answered by it " +
            $"{string.Join(", ", answeredJustBefore.Select(at => $"{(killedAt - at).TotalMilliseconds:F0} ms"))} before the kill returned");
        Assert.InRange(withTask.Count - answeredJustBefore.Count, 0, unanswered);
        // Answered at most a second before the kill returned; one written after it (seen: 47 ms, the kernel takes writes for
        // a socket whose process just died until its reset arrives) went to a caller already dead: in flight just the same.
        Assert.All(answeredJustBefore, at => Assert.True(killedAt - at <= TimeSpan.FromSeconds(1), $"Answered {killedAt - at} before the kill."));
        Assert.All(unknown, f => Assert.Contains("a task may have been created and charged", f.Message, StringComparison.Ordinal));
        Assert.Equal(jobs - unknown.Count, ready);
        // Each ready job has its one task; a job caught in flight has one task or none (the call may not have arrived).
        Assert.InRange(stats.TasksCreated - ready, 0, unknown.Count);
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

    // A short create timeout: a create claim whose holder died is taken as abandoned (and ended as
    // CreateOutcomeUnknown) CreateTimeout + 30 s after its lease lapsed, not 150 s.
    private static readonly Dictionary<string, string> MidCreateSettings = new() { ["Kling__CreateTimeout"] = "00:00:05" };

    private async Task<ServiceProcess> StartServiceAsync(IDictionary<string, string>? settings = null)
    {
        var all = new Dictionary<string, string> { ["Kling__RequestTimeout"] = "00:00:05" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }

        var service = await ServiceProcess.StartAsync(_environment, _simulator.BaseAddress, _simulator.Options.ApiKey, all);
        _services.Add(service);
        return service;
    }

    private static List<GenerateVideo> Commands(int count) =>
        Enumerable.Range(0, count)
            // Each job its own prompt, so the simulator's DuplicatePrompts counts tasks paid for twice.
            .Select(i => new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), $"job {i} {Guid.NewGuid():N}", i % 3 == 0 ? VideoMode.Professional : VideoMode.Standard, i % 2 == 0 ? 5 : 10))
            .ToList();

    /// <summary>
    /// One terminal event per request, one task per request, nothing more after things settle; every
    /// job ready, except those in <paramref name="outcomeUnknown"/>, which end as CreateOutcomeUnknown.
    /// </summary>
    private async Task AssertSettledAsync(IReadOnlyCollection<GenerateVideo> commands, IReadOnlySet<Guid>? outcomeUnknown = null)
    {
        // Give late duplicates (redeliveries after the restart) the chance to show up before counting.
        await Task.Delay(TimeSpan.FromSeconds(3));
        outcomeUnknown ??= new HashSet<Guid>();
        var terminalPerRequest = _client.Terminal
            .Select(e => e switch { VideoReady r => r.RequestId, VideoFailed f => f.RequestId, _ => Guid.Empty })
            .GroupBy(id => id)
            .ToDictionary(g => g.Key, g => g.Count());
        var unexpected = _client.Terminal
            .Where(e => e is not VideoReady && !(e is VideoFailed { Reason: VideoFailureReason.CreateOutcomeUnknown } f && outcomeUnknown.Contains(f.RequestId)))
            .ToList();
        var failures = unexpected.OfType<VideoFailed>().Select(f => $"{f.Reason}: {f.Message}").Take(5);

        Assert.Equal(commands.Select(c => c.RequestId).Order(), terminalPerRequest.Keys.Order());
        Assert.All(terminalPerRequest, pair => Assert.Equal(1, pair.Value));
        Assert.True(unexpected.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.All(outcomeUnknown, id => Assert.Contains(
            _client.Terminal.OfType<VideoFailed>(), f => f.RequestId == id && f.Reason == VideoFailureReason.CreateOutcomeUnknown));
    }

    /// <summary>Requests whose task id is recorded.</summary>
    private async Task<int> RecordedAsync()
    {
        await using var connection = new NpgsqlConnection(_environment.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(task_id) FROM kling_request_ledger", connection);
        return (int)(long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Requests under a claim and with no task: their create call was made or about to be, and its answer is not recorded.</summary>
    private async Task<HashSet<Guid>> ClaimedAsync()
    {
        await using var connection = new NpgsqlConnection(_environment.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT request_id FROM kling_request_ledger WHERE claim_token IS NOT NULL AND task_id IS NULL AND ended_at IS NULL", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var claimed = new HashSet<Guid>();
        while (await reader.ReadAsync())
        {
            claimed.Add(reader.GetGuid(0));
        }

        return claimed;
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
