using KlingService.Contracts;
using KlingService.Simulator;
using KlingService.Tests.Fixtures;
using Xunit.Abstractions;

namespace KlingService.Tests.Integration;

/// <summary>
/// The account's cap and a misbehaving provider, with the service as separate processes on real
/// RabbitMQ and PostgreSQL and the simulator over HTTP: no job fails because the account was busy
/// or the provider stumbled in a way that proves nothing was created, and the account never runs
/// more tasks than it pays for. Faults that leave a create's outcome unknown: <see cref="AmbiguousCreateTests"/>.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class AccountProtectionTests(InfrastructureFixture infrastructure, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly List<ServiceProcess> _services = [];
    private TestEnvironment _environment = null!;
    private RunningSimulator? _simulator;
    private BusClient _client = null!;

    public async Task InitializeAsync()
    {
        _environment = await infrastructure.CreateEnvironmentAsync();
        _client = await BusClient.StartAsync(_environment.RabbitMq);
    }

    public async Task DisposeAsync()
    {
        foreach (var service in _services)
        {
            await service.DisposeAsync();
        }

        await _client.DisposeAsync();
        if (_simulator is not null)
        {
            await _simulator.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_burst_of_300_jobs_on_two_instances_never_runs_more_than_the_cap_of_5_and_all_end_ready()
    {
        const int jobs = 300;
        const int cap = 5;
        // The simulated account has the same cap: a task past it would be refused and counted.
        _simulator = await KlingSimulator.StartAsync(new SimulatorOptions
        {
            QueueSeconds = 0.1, ProcessingSeconds = 0.4, SlowerFactor = 1, Jitter = 0.3, MaxConcurrentTasks = cap, Seed = 5,
        });
        var settings = new Dictionary<string, string>
        {
            ["Kling__MaxConcurrentTasks"] = cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Generation__FirstCheckAfter"] = "00:00:00.500",
            ["Generation__MinCheckInterval"] = "00:00:00.100",
            ["Generation__EtaSlack"] = "00:00:00.100",
        };
        await StartServicesAsync(2, settings);
        var started = DateTime.UtcNow;

        await _client.SendAsync(Commands(jobs));
        var ended = await _client.WaitForTerminalAsync(jobs, TimeSpan.FromMinutes(5));
        var stats = _simulator.Board.Stats();
        output.WriteLine($"{ended} jobs ended in {DateTime.UtcNow - started:g}; peak generating {stats.PeakGenerating}, " +
            $"create calls {stats.CreateCalls}, refused for the cap {stats.RejectedForConcurrency}");

        Assert.Equal(jobs, ended);
        Assert.Equal(jobs, _client.Terminal.OfType<VideoReady>().Count());
        Assert.True(stats.PeakGenerating <= cap, $"{stats.PeakGenerating} tasks generated at once on an account capped at {cap}.");
        Assert.Equal(0, stats.RejectedForConcurrency);
        Assert.Equal(jobs, stats.CreateCalls);
        Assert.True(_services.All(s => s.Count("submitted as Kling task") > 0), "Both instances should have created tasks.");
    }

    [Fact]
    public async Task With_503s_429_bursts_and_a_refused_key_window_every_job_ends_ready_and_each_is_created_exactly_once()
    {
        // Only faults that prove nothing was created: a 503 in the provider's JSON, 429 bursts, and a
        // few seconds in which the key is refused (401). None of them may fail a job or buy a task twice.
        const int jobs = 60;
        var options = new SimulatorOptions
        {
            QueueSeconds = 0.3, ProcessingSeconds = 1, SlowerFactor = 1, Jitter = 0.3, Seed = 11,
            MaxConcurrentTasks = 20,
            ServerErrorRate = 0.10,
            ThrottleBurstEverySeconds = 3, ThrottleBurstSeconds = 1.5, ThrottleRetryAfterSeconds = 1,
            UnauthorizedForSeconds = 4, UnauthorizedStatusCode = 401,
        };
        _simulator = await KlingSimulator.StartAsync(options);
        await StartServicesAsync(1, new Dictionary<string, string>
        {
            ["Kling__MaxConcurrentTasks"] = "20",
            ["Kling__RequestTimeout"] = "00:00:02",
            ["Generation__CreateRetryMinInterval"] = "00:00:00.200",
            ["Generation__CreateRetryMaxInterval"] = "00:00:02",
        });
        var started = System.Diagnostics.Stopwatch.StartNew();

        // UnauthorizedForSeconds counts from the simulator's start, which the service's start outlasts:
        // the same window is opened again as the jobs arrive, so their first create calls meet it.
        _simulator.Board.RefuseKeysFor(TimeSpan.FromSeconds(options.UnauthorizedForSeconds), options.UnauthorizedStatusCode);
        await _client.SendAsync(Commands(jobs));
        var ended = await _client.WaitForTerminalAsync(jobs, TimeSpan.FromMinutes(4));
        var stats = _simulator.Board.Stats();
        var failures = _client.Terminal.OfType<VideoFailed>().Select(f => $"{f.Reason}: {f.Message}").Take(5);
        output.WriteLine($"{ended} jobs ended in {started.Elapsed:g}; create calls {stats.CreateCalls}, tasks created {stats.TasksCreated}, " +
            $"duplicate prompts {stats.DuplicatePrompts}, 429s in bursts {stats.ThrottledInBursts}, 401s {stats.UnauthorizedAnswers}, " +
            $"refused for the cap {stats.RejectedForConcurrency}, status calls {stats.StatusCalls}, " +
            $"key refusals logged {_services[0].Count("Kling refused the API key")}, key accepted again logged {_services[0].Count("Kling accepts the API key again")}");

        Assert.Equal(jobs, ended);
        Assert.True(_client.Terminal.All(e => e is VideoReady), string.Join(Environment.NewLine, failures));
        Assert.Empty(_client.Terminal.OfType<VideoFailed>());
        Assert.True(stats.ThrottledInBursts > 0, "The run should have met at least one 429 burst.");
        Assert.True(stats.UnauthorizedAnswers > 0, "The run should have met the refused-key window.");
        Assert.True(_services[0].Count("Kling accepts the API key again") > 0, "Launching should have resumed once the key was accepted again.");
        // 503s, 429s and 401s all happen before a task exists, so no job was paid for twice.
        Assert.Equal(jobs, stats.CreateCalls);
        Assert.Equal(jobs, stats.TasksCreated);
        Assert.Equal(0, stats.DuplicatePrompts);
        Assert.Equal(0, stats.AcceptedThenFailed);
    }

    private async Task StartServicesAsync(int count, Dictionary<string, string> settings)
    {
        for (var i = 0; i < count; i++)
        {
            _services.Add(await ServiceProcess.StartAsync(_environment, _simulator!.BaseAddress, _simulator.Options.ApiKey, settings));
        }
    }

    private static List<GenerateVideo> Commands(int count) =>
        Enumerable.Range(0, count)
            .Select(i => new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), $"job {i}", VideoMode.Standard, 5))
            .ToList();
}
