using KlingService.Contracts;
using KlingService.Scheduling;
using KlingService.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace KlingService.Tests.Integration;

/// <summary>
/// A broker that blocks publishers (a memory or disk alarm) keeps its connections up and lets every send time out: that
/// is the broker's state, not the message's fault, so nothing is set aside, and the job's event arrives once it lifts.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class BlockedBrokerTests(InfrastructureFixture infrastructure)
{
    // Longer than the rounds it takes to reach the attempt limit below: each blocked send gives up after 10 s.
    private static readonly TimeSpan Alarm = TimeSpan.FromSeconds(50);

    [Fact]
    public async Task A_memory_alarm_longer_than_the_attempt_limit_sets_nothing_aside_and_the_job_is_delivered_after_it()
    {
        var broker = infrastructure.OwnBroker("raises a memory alarm with rabbitmqctl");
        var environment = await infrastructure.CreateEnvironmentAsync();
        await using var service = await EmbeddedService.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:RabbitMq"] = environment.RabbitMq.ToString(),
            ["ConnectionStrings:Postgres"] = environment.Postgres,
            // Two failures that were the rows' own fault would set them aside.
            ["Scheduling:Dispatch:MaxAttempts"] = "2",
            ["Scheduling:Dispatch:FirstRetryDelay"] = "00:00:00.200",
            ["Scheduling:Dispatch:MaxRetryDelay"] = "00:00:01",
            ["Simulator:ProcessingSeconds"] = "3",
        });
        await using var client = await BusClient.StartAsync(environment.RabbitMq);
        var command = new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), "a lighthouse in a storm");
        await client.SendAsync([command]);
        await ExternalProcess.UntilAsync(() => client.Submitted.Any(s => s.RequestId == command.RequestId), TimeSpan.FromSeconds(30), "The job was not submitted.");

        // A watermark of 0 raises the memory alarm at once: every publisher on the node is blocked.
        await broker.ControlAsync("set_vm_memory_high_watermark", "0");
        long setAsideDuringAlarm;
        try
        {
            await Task.Delay(Alarm);
            setAsideDuringAlarm = await service.App.Services.GetRequiredService<ScheduledMessageStore>().CountSetAsideAsync(CancellationToken.None);
        }
        finally
        {
            await broker.ControlAsync("set_vm_memory_high_watermark", "0.4");
        }

        Assert.Equal(0, setAsideDuringAlarm);
        Assert.Equal(1, await client.WaitForTerminalAsync(1, TimeSpan.FromMinutes(2)));
        Assert.Equal(command.RequestId, Assert.IsType<VideoReady>(Assert.Single(client.Terminal)).RequestId);
        Assert.Equal(0, await service.App.Services.GetRequiredService<ScheduledMessageStore>().CountSetAsideAsync(CancellationToken.None));
    }
}
