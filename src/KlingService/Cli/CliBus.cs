using System.Text.Json.Serialization;
using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Jobs;
using MassTransit;

namespace KlingService.Cli;

/// <summary>
/// The client side every command shares: a MassTransit bus on RabbitMQ speaking the contract as any
/// client team would (same queues, enums by name), started within a bound so an unreachable broker is
/// one line on stderr, not a hang.
/// </summary>
public sealed class CliBus : IAsyncDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(15);

    private readonly IBusControl _bus;
    private readonly ClientEndpointNameFormatter _names;

    private CliBus(IBusControl bus, ClientEndpointNameFormatter names)
    {
        _bus = bus;
        _names = names;
    }

    public static async Task<CliBus> ConnectAsync(Uri broker, CancellationToken cancellationToken)
    {
        await BrokerProbe.CheckAsync(broker, ConnectTimeout, cancellationToken);
        var names = ClientEndpointNameFormatter.For(broker);
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(broker);
            // The bus endpoint (where the status query's answer comes back) is still temporary, under a name the client's user may declare.
            cfg.OverrideDefaultBusEndpointQueueName(names.TemporaryEndpoint("bus"));
            cfg.ConfigureJsonSerializerOptions(options =>
            {
                if (!options.Converters.Any(c => c is JsonStringEnumConverter))
                {
                    options.Converters.Add(new JsonStringEnumConverter());
                }

                return options;
            });
        });

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConnectTimeout);
        try
        {
            await bus.StartAsync(timeout.Token);
            return new CliBus(bus, names);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            await StopQuietlyAsync(bus);
            // The exception's text may carry the URI with its password: only its kind is told.
            throw new CliException(e is OperationCanceledException
                ? $"cannot reach RabbitMQ at {BrokerAddress.Describe(broker)} within {ConnectTimeout.TotalSeconds:0} s."
                : $"cannot reach RabbitMQ at {BrokerAddress.Describe(broker)} ({e.GetType().Name}).");
        }
    }

    public async Task SendAsync<T>(string queue, T message, CancellationToken cancellationToken)
        where T : class
    {
        var endpoint = await _bus.GetSendEndpoint(new Uri($"queue:{queue}"));
        await endpoint.Send(message, cancellationToken);
    }

    public Task SendAsync(GenerateVideo command, CancellationToken cancellationToken) =>
        SendAsync(GenerateVideoConsumerDefinition.QueueName, command, cancellationToken);

    public Task SendAsync(CancelVideoGeneration command, CancellationToken cancellationToken) =>
        SendAsync(CancelVideoGenerationConsumerDefinition.QueueName, command, cancellationToken);

    /// <summary>The status query; a service that does not answer in time is a clear error, not a hang.</summary>
    public async Task<VideoJobStatus> StatusAsync(Guid requestId, CancellationToken cancellationToken)
    {
        var client = _bus.CreateRequestClient<GetVideoJob>(new Uri($"queue:{GetVideoJobConsumerDefinition.QueueName}"), RequestTimeout.After(s: (int)StatusTimeout.TotalSeconds));
        try
        {
            return (await client.GetResponse<VideoJobStatus>(new GetVideoJob(requestId), cancellationToken)).Message;
        }
        catch (RequestTimeoutException)
        {
            throw new CliException($"the service did not answer the status query within {StatusTimeout.TotalSeconds:0} s (is it running on this broker?).");
        }
    }

    /// <summary>The job events of the requests <paramref name="wanted"/> picks, from now on.</summary>
    public Task<EventFeed> SubscribeAsync(Func<Guid, bool> wanted, CancellationToken cancellationToken) =>
        EventFeed.ConnectAsync(_bus, _names, wanted, cancellationToken);

    public async ValueTask DisposeAsync() => await StopQuietlyAsync(_bus);

    private static async Task StopQuietlyAsync(IBusControl bus)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await bus.StopAsync(timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or MassTransitException)
        {
            // Stopping is best effort: the temporary queues are auto-delete.
        }
    }
}
