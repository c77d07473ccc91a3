using System.Text;
using System.Text.Json;
using KlingService.Contracts;
using KlingService.Simulator;
using KlingService.Tests.Fixtures;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Xunit.Abstractions;

namespace KlingService.Tests.Integration;

/// <summary>
/// The client's side on the real thing (the service as a process on RabbitMQ and PostgreSQL, the
/// simulator over HTTP): the status query, replay of a lost event, cancel, and the same from a client
/// that does not use MassTransit.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class JobQueryTests(InfrastructureFixture infrastructure, ITestOutputHelper output) : IAsyncLifetime
{
    private TestEnvironment _environment = null!;
    private RunningSimulator _simulator = null!;
    private ServiceProcess _service = null!;
    private BusClient _client = null!;

    public async Task InitializeAsync()
    {
        _environment = await infrastructure.CreateEnvironmentAsync();
        _simulator = await KlingSimulator.StartAsync(new SimulatorOptions
        {
            QueueSeconds = 0.3, ProcessingSeconds = 3, SlowerFactor = 1, MaxConcurrentTasks = 2, Seed = 3,
        });
        _service = await ServiceProcess.StartAsync(_environment, _simulator.BaseAddress, _simulator.Options.ApiKey, new Dictionary<string, string>
        {
            ["Kling__MaxConcurrentTasks"] = "2",
            ["Generation__FirstCheckAfter"] = "00:00:00.500",
            ["Generation__MinCheckInterval"] = "00:00:00.200",
            ["Generation__MaxCheckInterval"] = "00:00:01",
        });
        _client = await BusClient.StartAsync(_environment.RabbitMq);
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _service.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public async Task Status_in_each_state_replay_after_a_lost_event_and_cancel_with_the_cap_still_honoured()
    {
        var commands = Enumerable.Range(0, 5).Select(i => new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), $"query job {i}")).ToList();
        await _client.SendAsync(commands.Take(2));
        await WaitUntilAsync(() => _client.Submitted.Count == 2);
        await _client.SendAsync(commands.Skip(2));
        await WaitUntilAsync(async () => (await _client.StatusAsync(commands[4].RequestId)).State == JobState.Waiting);

        var statuses = new List<VideoJobStatus>();
        foreach (var command in commands)
        {
            statuses.Add(await _client.StatusAsync(command.RequestId));
        }

        var unknown = await _client.StatusAsync(Guid.NewGuid());
        await _client.CancelAsync(commands[4].RequestId);
        await _client.CancelAsync(commands[0].RequestId);
        await _client.WaitForTerminalAsync(5, TimeSpan.FromMinutes(2));
        // A client that lost its VideoReady sends the same command again.
        var ready = _client.Terminal.OfType<VideoReady>().Single(r => r.RequestId == commands[1].RequestId);
        await _client.SendAsync([commands[1]]);
        await _client.WaitForTerminalAsync(6, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(4));
        var stats = _simulator.Board.Stats();
        output.WriteLine(string.Join(Environment.NewLine, statuses.Select(s => $"{s.State} pos {s.QueuePosition} task {s.TaskId} {s.ProviderStatus}")));
        output.WriteLine($"peak {stats.PeakGenerating}, creates {stats.CreateCalls}, refused for the cap {stats.RejectedForConcurrency}");

        Assert.All(statuses.Take(2), s => Assert.Contains(s.State, new[] { JobState.Creating, JobState.Generating }));
        // The three were admitted concurrently, in any order: each has its own place in the queue.
        Assert.All(statuses.Skip(2), s => Assert.Equal(JobState.Waiting, s.State));
        Assert.Equal([1, 2, 3], statuses.Skip(2).Select(s => s.QueuePosition ?? 0).Order());
        Assert.Equal(JobState.Unknown, unknown.State);
        var failed = _client.Terminal.OfType<VideoFailed>().ToList();
        Assert.Equal(new[] { commands[0].RequestId, commands[4].RequestId }.Order(), failed.Select(f => f.RequestId).Order());
        Assert.All(failed, f => Assert.Equal(VideoFailureReason.Cancelled, f.Reason));
        Assert.DoesNotContain(_client.Terminal.OfType<VideoReady>(), r => r.RequestId == commands[0].RequestId);
        Assert.Equal(2, _client.Terminal.OfType<VideoReady>().Count(r => r.RequestId == commands[1].RequestId));
        Assert.All(_client.Terminal.OfType<VideoReady>().Where(r => r.RequestId == commands[1].RequestId), r => Assert.Equal(ready, r));
        // The cancelled generating job kept its slot until the provider finished it: never more than the cap.
        Assert.True(stats.PeakGenerating <= 2, $"peak {stats.PeakGenerating}");
        Assert.Equal(0, stats.RejectedForConcurrency);
        Assert.Equal(4, stats.CreateCalls);
        Assert.Equal(JobState.Cancelled, (await _client.StatusAsync(commands[0].RequestId)).State);
        Assert.Equal(JobState.Cancelled, (await _client.StatusAsync(commands[4].RequestId)).State);
    }

    [Fact]
    public async Task A_client_without_MassTransit_queries_the_status_and_cancels_over_plain_AMQP()
    {
        var blocker = Enumerable.Range(0, 2).Select(i => new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), $"blocker {i}")).ToList();
        var command = new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), "asked about over plain AMQP");
        await _client.SendAsync(blocker);
        await WaitUntilAsync(() => _client.Submitted.Count == 2);
        await _client.SendAsync([command]);

        var factory = new ConnectionFactory { Uri = _environment.RabbitMq };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        // A reply queue of the client's own behind a fanout exchange of the same name: MassTransit answers
        // to an exchange, and the responseAddress's query tells it the settings it was declared with.
        var replyQueue = $"raw-client-replies-{Guid.NewGuid():N}";
        await channel.ExchangeDeclareAsync(replyQueue, ExchangeType.Fanout, durable: false, autoDelete: true);
        await channel.QueueDeclareAsync(replyQueue, durable: false, exclusive: false, autoDelete: true);
        await channel.QueueBindAsync(replyQueue, replyQueue, routingKey: "");
        var replies = System.Threading.Channels.Channel.CreateUnbounded<JsonElement>();
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
            await replies.Writer.WriteAsync(JsonDocument.Parse(delivery.Body.ToArray()).RootElement.Clone());
        await channel.BasicConsumeAsync(replyQueue, autoAck: true, consumer);
        var responseAddress = new UriBuilder(_environment.RabbitMq)
        {
            Scheme = "rabbitmq", UserName = "", Password = "", Path = $"{_environment.RabbitMq.AbsolutePath.TrimEnd('/')}/{replyQueue}", Query = "durable=false&autodelete=true",
        }.Uri;

        async Task<JsonElement> AskAsync(Guid requestId)
        {
            await SendRawAsync(channel, "get-video-job", "GetVideoJob", new { requestId }, responseAddress);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            return (await replies.Reader.ReadAsync(timeout.Token)).GetProperty("message");
        }

        var waiting = await AskAsync(command.RequestId);
        await SendRawAsync(channel, "cancel-video-generation", "CancelVideoGeneration", new { requestId = command.RequestId }, responseAddress: null);
        await WaitUntilAsync(() => _client.Terminal.OfType<VideoFailed>().Any(f => f.RequestId == command.RequestId));
        var cancelled = await AskAsync(command.RequestId);
        var unknown = await AskAsync(Guid.NewGuid());

        Assert.Equal("Waiting", waiting.GetProperty("state").GetString());
        Assert.Equal(1, waiting.GetProperty("queuePosition").GetInt32());
        Assert.Equal("Cancelled", cancelled.GetProperty("state").GetString());
        Assert.Equal("Cancelled", cancelled.GetProperty("reason").GetString());
        Assert.Equal("Unknown", unknown.GetProperty("state").GetString());
    }

    /// <summary>The MassTransit envelope, as the README shows it to a client in any language.</summary>
    private static async Task SendRawAsync(IChannel channel, string queue, string type, object message, Uri? responseAddress)
    {
        var envelope = new Dictionary<string, object?>
        {
            ["messageId"] = Guid.NewGuid(),
            ["requestId"] = responseAddress is null ? null : Guid.NewGuid(),
            ["responseAddress"] = responseAddress?.ToString(),
            ["messageType"] = new[] { $"urn:message:KlingService.Contracts:{type}" },
            ["message"] = message,
        };
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(envelope));
        var properties = new BasicProperties { ContentType = "application/vnd.masstransit+json", DeliveryMode = DeliveryModes.Persistent };
        await channel.BasicPublishAsync(exchange: "", routingKey: queue, mandatory: true, basicProperties: properties, body: body);
    }

    private static async Task WaitUntilAsync(Func<bool> condition) => await WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < giveUp, "The condition was not met within a minute.");
            await Task.Delay(100);
        }
    }
}
