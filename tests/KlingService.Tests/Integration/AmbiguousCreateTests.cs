using System.Diagnostics;
using KlingService.Contracts;
using KlingService.Simulator;
using KlingService.Tests.Fixtures;
using Xunit.Abstractions;

namespace KlingService.Tests.Integration;

/// <summary>
/// A provider that creates (and charges) the task and then fails the answer: a gateway's 504 page, a
/// connection reset, or a 200 held past the service's create timeout. The service as a separate
/// process on real RabbitMQ and PostgreSQL, the simulator over HTTP. By default such a job ends as
/// CreateOutcomeUnknown and is never paid for twice; with Generation:RetryAmbiguousCreates=true the
/// create is repeated, every job gets its video, and every duplicate charge is logged.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class AmbiguousCreateTests(InfrastructureFixture infrastructure, ITestOutputHelper output) : IAsyncLifetime
{
    private const int Jobs = 40;

    // The create call's own bound; a late answer comes well after it, so it is always missed, and a
    // normal create on a busy machine stays well within it.
    private const string CreateTimeout = "00:00:03";
    private const double LateAnswerSeconds = 7;

    private const string ChargeWarning = "a task may have been created and charged";
    private const string UnknownNotRepeated = @"outcome is unknown; a task may have been created and charged \(not repeated\)";
    private const string UnknownRepeated = @"outcome is unknown; a task may have been created and charged \(repeating it, as Generation:RetryAmbiguousCreates allows\)";

    private TestEnvironment _environment = null!;
    private RunningSimulator _simulator = null!;
    private BusClient _client = null!;
    private ServiceProcess? _service;

    public async Task InitializeAsync()
    {
        _environment = await infrastructure.CreateEnvironmentAsync();
        _simulator = await KlingSimulator.StartAsync(new SimulatorOptions
        {
            QueueSeconds = 0.3, ProcessingSeconds = 1, SlowerFactor = 1, Jitter = 0.3, Seed = 23,
            AcceptThen504Rate = 0.1, AcceptThenResetRate = 0.1, AcceptThenLateRate = 0.1, LateAnswerSeconds = LateAnswerSeconds,
        });
        _client = await BusClient.StartAsync(_environment.RabbitMq);
    }

    public async Task DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
            var logs = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "kling-service-logs")).FullName;
            await File.WriteAllTextAsync(Path.Combine(logs, $"ambiguous-{_environment.Postgres.GetHashCode():x}.log"), _service.Output);
        }

        await _client.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public async Task By_default_a_create_accepted_then_failed_ends_as_CreateOutcomeUnknown_and_no_task_is_paid_for_twice()
    {
        var (commands, ended, stats) = await RunAsync(retryAmbiguous: false);
        var unknown = _client.Terminal.OfType<VideoFailed>().Where(f => f.Reason == VideoFailureReason.CreateOutcomeUnknown).ToList();
        var ready = _client.Terminal.OfType<VideoReady>().Count();
        var otherFailures = _client.Terminal.OfType<VideoFailed>().Where(f => f.Reason != VideoFailureReason.CreateOutcomeUnknown)
            .Select(f => $"{f.Reason}: {f.Message}").Take(5);

        Assert.Equal(Jobs, ended);
        AssertEachEndedOnce(commands);
        // Nothing was bought twice: one task per job, whatever its create call heard.
        Assert.Equal(0, stats.DuplicatePrompts);
        Assert.Equal(Jobs, stats.TasksCreated);
        Assert.All(_simulator.Board.TasksByPrompt(), group => Assert.Single(group));
        // Exactly the creates whose answer failed after the task existed end unknown, each saying it may be charged.
        Assert.True(stats.AcceptedThenFailed > 0, "The run should have met at least one create accepted then failed.");
        Assert.Equal(stats.AcceptedThenFailed, unknown.Count);
        Assert.All(unknown, f => Assert.Contains(ChargeWarning, f.Message, StringComparison.Ordinal));
        Assert.True(Jobs - unknown.Count == ready, string.Join(Environment.NewLine, otherFailures));
        Assert.Equal(unknown.Count, _service!.Count(UnknownNotRepeated));
        Assert.Equal(0, _service.Count(UnknownRepeated));
    }

    [Fact]
    public async Task With_RetryAmbiguousCreates_every_job_ends_ready_and_each_duplicate_charge_is_a_logged_repeat()
    {
        var (commands, ended, stats) = await RunAsync(retryAmbiguous: true);
        var repeated = _service!.Count(UnknownRepeated);
        var failures = _client.Terminal.OfType<VideoFailed>().Select(f => $"{f.Reason}: {f.Message}").Take(5);

        Assert.Equal(Jobs, ended);
        AssertEachEndedOnce(commands);
        Assert.True(_client.Terminal.All(e => e is VideoReady), string.Join(Environment.NewLine, failures));
        // Every repeat bought the video again, and every one was said in the log.
        Assert.True(stats.DuplicatePrompts > 0, "The run should have repeated at least one ambiguous create.");
        Assert.Equal(stats.DuplicatePrompts, repeated);
        Assert.Equal(stats.AcceptedThenFailed, stats.DuplicatePrompts);
        Assert.Equal(Jobs + stats.DuplicatePrompts, stats.TasksCreated);
        Assert.Equal(0, _service.Count(UnknownNotRepeated));
    }

    /// <summary>Starts the service, sends the jobs and waits for them all, then a little more for any repeat.</summary>
    private async Task<(List<GenerateVideo> Commands, int Ended, SimulatorStats Stats)> RunAsync(bool retryAmbiguous)
    {
        _service = await StartServiceAsync(retryAmbiguous);
        var commands = Commands(Jobs);
        var clock = Stopwatch.StartNew();

        await _client.SendAsync(commands);
        var ended = await _client.WaitForTerminalAsync(Jobs, TimeSpan.FromMinutes(3));
        await Task.Delay(TimeSpan.FromSeconds(3));
        var stats = _simulator.Board.Stats();
        output.WriteLine($"{ended} jobs ended in {clock.Elapsed:g}: {_client.Terminal.OfType<VideoReady>().Count()} ready; simulator: " +
            $"tasks created {stats.TasksCreated}, accepted then failed {stats.AcceptedThenFailed}, duplicate prompts {stats.DuplicatePrompts}; " +
            $"log: {_service.Count(UnknownNotRepeated)} not repeated, {_service.Count(UnknownRepeated)} repeated");
        return (commands, ended, stats);
    }

    private async Task<ServiceProcess> StartServiceAsync(bool retryAmbiguous) =>
        await ServiceProcess.StartAsync(_environment, _simulator.BaseAddress, _simulator.Options.ApiKey, new Dictionary<string, string>
        {
            ["Kling__CreateTimeout"] = CreateTimeout,
            ["Generation__RetryAmbiguousCreates"] = retryAmbiguous ? "true" : "false",
            ["Generation__CreateRetryMinInterval"] = "00:00:00.200",
            ["Generation__CreateRetryMaxInterval"] = "00:00:02",
        });

    private void AssertEachEndedOnce(IReadOnlyCollection<GenerateVideo> commands)
    {
        var terminalPerRequest = _client.Terminal
            .Select(e => e switch { VideoReady r => r.RequestId, VideoFailed f => f.RequestId, _ => Guid.Empty })
            .GroupBy(id => id)
            .ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(commands.Select(c => c.RequestId).Order(), terminalPerRequest.Keys.Order());
        Assert.All(terminalPerRequest, pair => Assert.Equal(1, pair.Value));
    }

    // Each job its own prompt, so a second task with the same prompt is a duplicate charge.
    private static List<GenerateVideo> Commands(int count) =>
        Enumerable.Range(0, count)
            .Select(i => new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), $"ambiguous job {i} {Guid.NewGuid():N}", VideoMode.Standard, 5))
            .ToList();
}
