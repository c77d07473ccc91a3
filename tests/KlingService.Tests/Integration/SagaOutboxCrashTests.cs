using KlingService.Contracts;
using KlingService.Simulator;
using KlingService.TestHooks;
using KlingService.Tests.Fixtures;
using Npgsql;
using Xunit.Abstractions;

namespace KlingService.Tests.Integration;

/// <summary>
/// The saga's final commit and its terminal event are one: the service (a process, on real RabbitMQ
/// and PostgreSQL, against the simulator over HTTP) dies right after the commit that ends a job and
/// before anything is sent; once it is back, the client gets the event, and only once.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class SagaOutboxCrashTests(InfrastructureFixture infrastructure, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly List<ServiceProcess> _services = [];
    private TestEnvironment _environment = null!;
    private RunningSimulator _simulator = null!;
    private BusClient _client = null!;

    public async Task InitializeAsync()
    {
        _environment = await infrastructure.CreateEnvironmentAsync();
        _simulator = await KlingSimulator.StartAsync(new SimulatorOptions { QueueSeconds = 1, ProcessingSeconds = 2, Jitter = 0, Seed = 11 });
        _client = await BusClient.StartAsync(_environment.RabbitMq);
    }

    public async Task DisposeAsync()
    {
        foreach (var service in _services)
        {
            await service.DisposeAsync();
            output.WriteLine(service.Output);
        }

        await _client.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public async Task A_crash_right_after_the_sagas_final_commit_still_delivers_the_terminal_event_once()
    {
        var first = await StartServiceAsync(CrashAfter(CrashingCommitObserver.CrashAfterSagaFinalCommit));
        var command = new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), $"outbox crash {Guid.NewGuid():N}", VideoMode.Standard, 5);
        await _client.SendAsync([command]);

        // The hook kills the service right after the commit that ends the job.
        Assert.True(await first.WaitForExitAsync(TimeSpan.FromMinutes(1)) is not null, "The service should have died after the saga's final commit.");
        Assert.Contains("killing the process after a saga's final commit", first.Output, StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM kling_video_jobs"));
        // The event committed with the saga's end, as an outbox row waiting for the dispatcher.
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM kling_scheduled_messages WHERE message_type = 'urn:message:KlingService.Contracts:VideoReady' AND message_id = token_id"));
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Empty(_client.Terminal);

        await StartServiceAsync();

        Assert.Equal(1, await _client.WaitForTerminalAsync(1, TimeSpan.FromSeconds(60)));
        // A second send of the event (one the dispatcher could not mark as sent) would carry the same
        // MessageId, which the client counts once; a second publish would show up here.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var ready = Assert.IsType<VideoReady>(Assert.Single(_client.Terminal));
        Assert.Equal(command.RequestId, ready.RequestId);
        Assert.Equal(1, _simulator.Board.Stats().CreateCalls);
    }

    [Fact]
    public async Task A_crash_right_after_the_launcher_recorded_a_task_still_announces_it_once_and_the_job_ends_once()
    {
        var first = await StartServiceAsync(CrashAfter(CrashingCommitObserver.CrashAfterTaskRecorded));
        var command = new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), $"launcher crash {Guid.NewGuid():N}", VideoMode.Standard, 5);
        await _client.SendAsync([command]);

        Assert.True(await first.WaitForExitAsync(TimeSpan.FromMinutes(1)) is not null, "The service should have died after recording the task.");
        Assert.Contains("killing the process after a task was recorded", first.Output, StringComparison.Ordinal);
        // The announcement committed with the task, as an outbox row waiting for the dispatcher.
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM kling_scheduled_messages WHERE message_type = 'urn:message:KlingService.Contracts:VideoGenerationSubmitted' AND message_id = token_id"));
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Empty(_client.Submitted);

        await StartServiceAsync();

        Assert.Equal(1, await _client.WaitForTerminalAsync(1, TimeSpan.FromSeconds(60)));
        await Task.Delay(TimeSpan.FromSeconds(3));
        var submitted = Assert.Single(_client.Submitted);
        Assert.Equal(command.RequestId, submitted.RequestId);
        Assert.Equal(command.RequestId, Assert.IsType<VideoReady>(Assert.Single(_client.Terminal)).RequestId);
        Assert.Equal(1, _simulator.Board.Stats().CreateCalls);
    }

    /// <summary>
    /// The service with the test's commit observer loaded into its process before Main (a startup hook), armed to kill it at
    /// the commit <paramref name="variable"/> names: the service's assembly holds no test code.
    /// </summary>
    private static Dictionary<string, string> CrashAfter(string variable) => new()
    {
        ["DOTNET_STARTUP_HOOKS"] = typeof(CrashingCommitObserver).Assembly.Location,
        [variable] = "1",
    };

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

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_environment.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
