using System.Collections.Concurrent;
using System.Threading.Channels;
using KlingService.Contracts;
using MassTransit;

namespace KlingService.Cli;

/// <summary>
/// The job events on a temporary (auto-delete) queue of the client's own, bound to the events'
/// exchanges; connected before anything is sent, so no event of the job can be missed.
/// </summary>
public sealed class EventFeed : IAsyncDisposable
{
    private readonly Channel<JobEvent> _events = Channel.CreateUnbounded<JobEvent>();
    // A message redelivered after a lost ack carries the same MessageId: shown once.
    private readonly ConcurrentDictionary<Guid, byte> _seen = new();
    private readonly Func<Guid, bool> _wanted;
    private HostReceiveEndpointHandle? _handle;

    private EventFeed(Func<Guid, bool> wanted) => _wanted = wanted;

    public ChannelReader<JobEvent> Events => _events.Reader;

    public static async Task<EventFeed> ConnectAsync(IBus bus, IEndpointNameFormatter names, Func<Guid, bool> wanted, CancellationToken cancellationToken)
    {
        var feed = new EventFeed(wanted);
        feed._handle = bus.ConnectReceiveEndpoint(new TemporaryEndpointDefinition("events"), names, endpoint =>
        {
            endpoint.Handler<VideoGenerationSubmitted>(context => feed.Add(context, nameof(VideoGenerationSubmitted), context.Message.RequestId));
            endpoint.Handler<VideoGenerationProgressed>(context => feed.Add(context, nameof(VideoGenerationProgressed), context.Message.RequestId));
            endpoint.Handler<VideoReady>(context => feed.Add(context, nameof(VideoReady), context.Message.RequestId));
            endpoint.Handler<VideoFailed>(context => feed.Add(context, nameof(VideoFailed), context.Message.RequestId));
        });
        await feed._handle.Ready.WaitAsync(cancellationToken);
        return feed;
    }

    public async ValueTask DisposeAsync()
    {
        _events.Writer.TryComplete();
        if (_handle is not null)
        {
            await _handle.StopAsync(CancellationToken.None);
        }
    }

    private Task Add<T>(ConsumeContext<T> context, string name, Guid requestId)
        where T : class
    {
        if (_wanted(requestId) && (context.MessageId is not { } id || _seen.TryAdd(id, 0)))
        {
            _events.Writer.TryWrite(new JobEvent(name, requestId, context.Message, DateTimeOffset.UtcNow));
        }

        return Task.CompletedTask;
    }
}
