using System.Globalization;
using KlingService.Contracts;
using KlingService.Simulator;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Integration;

/// <summary>A container stop (SIGTERM) lets the service finish what it paid for before it exits.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class GracefulStopTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public async Task A_stop_signal_during_a_slow_create_waits_for_its_task_id_and_exits_0()
    {
        var environment = await infrastructure.CreateEnvironmentAsync();
        // Every create answer's body trickles for 6 s: the task exists (and is paid for) well before its id arrives.
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions
        {
            QueueSeconds = 0.3, ProcessingSeconds = 60, SlowerFactor = 1, SlowBodyRate = 1, SlowBodySeconds = 6,
        });
        await using var client = await BusClient.StartAsync(environment.RabbitMq);
        await using var service = await ServiceProcess.StartAsync(environment, simulator.BaseAddress, simulator.Options.ApiKey);

        await client.SendAsync([new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), "a slow answer")]);
        await ExternalProcess.UntilAsync(() => simulator.Board.Stats().TasksCreated > 0, TimeSpan.FromSeconds(30), "No task was created.");

        await ExternalProcess.RunAsync("kill", ["-TERM", service.ProcessId.ToString(CultureInfo.InvariantCulture)]);
        var exitCode = await service.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exitCode == 0, $"exit code {exitCode?.ToString(CultureInfo.InvariantCulture) ?? "none"}:{Environment.NewLine}{service.Output}");
        // The paid task's id arrived and was recorded before the process ended (its announcement leaves from the outbox).
        Assert.Equal(1, service.Count("submitted as Kling task"));
    }
}
