using KlingService.Contracts;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Integration;

/// <summary>
/// A long PostgreSQL outage keeps every command: the endpoints that need the database stop taking messages, the
/// commands wait in their queue, and everything resumes by itself when the database is back.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class DatabaseOutageTests(InfrastructureFixture infrastructure)
{
    // Longer than the quick retries (about a second) after which a command used to be handed to the scheduler.
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(12);

    [Fact]
    public async Task Commands_sent_while_PostgreSQL_is_down_wait_in_their_queue_and_each_ends_once_when_it_is_back()
    {
        const int commands = 5;
        var broker = infrastructure.OwnBroker("reads queue depths with rabbitmqctl");
        var environment = await infrastructure.CreateEnvironmentAsync();
        // A server of its own: stopping it leaves the other tests' database alone.
        await using var postgres = await LocalPostgres.StartAsync();
        await using var service = await EmbeddedService.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:RabbitMq"] = environment.RabbitMq.ToString(),
            ["ConnectionStrings:Postgres"] = postgres.ConnectionString,
        });
        await using var client = await BusClient.StartAsync(environment.RabbitMq);
        await client.SendAsync([Command("before the outage")]);
        Assert.Equal(1, await client.WaitForTerminalAsync(1, TimeSpan.FromMinutes(1)));

        await postgres.KillAsync();
        var sent = Enumerable.Range(0, commands).Select(i => Command($"during the outage {i}")).ToList();
        await client.SendAsync(sent);
        await Task.Delay(Outage);
        var duringOutage = await broker.QueueDepthsAsync(environment.RabbitMq);
        var held = service.Logs.Lines.Count(l => l.Contains("is held until it is back", StringComparison.Ordinal) && l.Contains("generate-video", StringComparison.Ordinal));
        await postgres.StartServerAsync();

        Assert.True(
            duringOutage.GetValueOrDefault("generate-video") == commands,
            $"The commands did not wait in their queue: {Describe(duringOutage)}");
        Assert.Equal(commands + 1, await client.WaitForTerminalAsync(commands + 1, TimeSpan.FromMinutes(2)));
        // Anything answered twice would have been answered by now.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var answered = client.Terminal.Select(e => Assert.IsType<VideoReady>(e).RequestId).ToList();
        Assert.Equal(commands + 1, answered.Count);
        Assert.Equal(commands + 1, answered.Distinct().Count());
        Assert.All(sent, command => Assert.Contains(command.RequestId, answered));
        var after = await broker.QueueDepthsAsync(environment.RabbitMq);
        Assert.True(
            after.Where(q => q.Key.EndsWith("_error", StringComparison.Ordinal) || q.Key.EndsWith("_skipped", StringComparison.Ordinal)).All(q => q.Value == 0),
            $"Something was set aside: {Describe(after)}");
        // Nothing waited without a word: each command said it was held, and said when it went through.
        Assert.Equal(commands, held);
        Assert.Contains(service.Logs.Lines, l => l.Contains("PostgreSQL is back", StringComparison.Ordinal));
    }

    private static GenerateVideo Command(string prompt) => new(Guid.NewGuid(), Images.Base64Png(), prompt);

    private static string Describe(IReadOnlyDictionary<string, int> depths) =>
        string.Join(", ", depths.OrderBy(q => q.Key, StringComparer.Ordinal).Select(q => $"{q.Key}={q.Value}"));
}
