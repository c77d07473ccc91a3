using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using KlingService.Contracts;
using MassTransit;

namespace KlingService.Tests.Fixtures;

/// <summary>A client team's side of the contract: sends commands on RabbitMQ and collects the events.</summary>
public sealed class BusClient : IAsyncDisposable
{
    private readonly IBusControl _bus;
    private readonly ConcurrentQueue<object> _terminal = new();
    private readonly ConcurrentQueue<VideoGenerationSubmitted> _submitted = new();
    private readonly ConcurrentDictionary<Guid, byte> _seen = new();
    private readonly ConcurrentQueue<DateTimeOffset> _endedAt = new();

    private BusClient(Uri broker, string observerQueue)
    {
        _bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(broker);
            // What a .NET client configures to read the contract's enums by name.
            cfg.ConfigureJsonSerializerOptions(options =>
            {
                if (!options.Converters.Any(c => c is JsonStringEnumConverter))
                {
                    options.Converters.Add(new JsonStringEnumConverter());
                }

                return options;
            });
            cfg.ReceiveEndpoint(observerQueue, endpoint =>
            {
                endpoint.Handler<VideoReady>(context => Record(context, context.Message));
                endpoint.Handler<VideoFailed>(context => Record(context, context.Message));
                endpoint.Handler<VideoGenerationSubmitted>(context =>
                {
                    // As for terminal events: a redelivery (same MessageId) is counted once.
                    if (context.MessageId is not { } id || _seen.TryAdd(id, 0))
                    {
                        _submitted.Enqueue(context.Message);
                    }

                    return Task.CompletedTask;
                });
            });
        });
    }

    public IReadOnlyCollection<object> Terminal => _terminal;

    public IReadOnlyCollection<VideoGenerationSubmitted> Submitted => _submitted;

    /// <summary>When each terminal event arrived, in arrival order.</summary>
    public IReadOnlyCollection<DateTimeOffset> EndedAt => _endedAt;

    public static async Task<BusClient> StartAsync(Uri broker)
    {
        var client = new BusClient(broker, "test-observer");
        await client._bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        return client;
    }

    public async Task SendAsync(IEnumerable<GenerateVideo> commands)
    {
        var endpoint = await _bus.GetSendEndpoint(new Uri("queue:generate-video"));
        await Task.WhenAll(commands.Select(command => endpoint.Send(command)));
    }

    /// <summary>The status query, as a .NET client team makes it.</summary>
    public async Task<VideoJobStatus> StatusAsync(Guid requestId)
    {
        var client = _bus.CreateRequestClient<GetVideoJob>(new Uri("queue:get-video-job"), RequestTimeout.After(s: 30));
        return (await client.GetResponse<VideoJobStatus>(new GetVideoJob(requestId))).Message;
    }

    public async Task CancelAsync(Guid requestId)
    {
        var endpoint = await _bus.GetSendEndpoint(new Uri("queue:cancel-video-generation"));
        await endpoint.Send(new CancelVideoGeneration(requestId));
    }

    /// <summary>Waits until <paramref name="count"/> jobs have ended, or the timeout passes; returns how many did.</summary>
    public async Task<int> WaitForTerminalAsync(int count, TimeSpan timeout)
    {
        var giveUp = DateTime.UtcNow + timeout;
        while (_terminal.Count < count && DateTime.UtcNow < giveUp)
        {
            await Task.Delay(100);
        }

        return _terminal.Count;
    }

    public ValueTask DisposeAsync() => new(_bus.StopAsync());

    private Task Record(ConsumeContext context, object message)
    {
        // The broker redelivers a message whose ack was lost in a restart: same MessageId. Only a
        // second publish by the service (a new MessageId) is a duplicate event.
        if (context.MessageId is not { } id || _seen.TryAdd(id, 0))
        {
            _terminal.Enqueue(message);
            _endedAt.Enqueue(DateTimeOffset.UtcNow);
        }

        return Task.CompletedTask;
    }
}
