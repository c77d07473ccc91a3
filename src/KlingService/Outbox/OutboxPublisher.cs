using System.Diagnostics;
using System.Text.Json;
using KlingService.Scheduling;
using MassTransit;
using MassTransit.Serialization;

namespace KlingService.Outbox;

/// <summary>
/// Turns an event the service publishes outside a consume (the launcher's announcements, a cancel's
/// answer) into an outbox row, to be written in the same transaction as the state it announces. The
/// row carries the publish address of the event's type, its MessageId (sent with it on every try) and
/// the current trace, as the saga's outbox rows do.
/// </summary>
public sealed class OutboxPublisher(IServiceProvider services)
{
    private const string ActivityIdHeader = "MT-Activity-Id";

    // The bus is built after the stores that use this; it is looked up at the first row.
    private IBus Bus => services.GetRequiredService<IBus>();

    /// <summary>A publish: to every subscriber of the event's type.</summary>
    public ScheduledMessageRow Row<T>(T message)
        where T : class =>
        Bus.Topology.TryGetPublishAddress<T>(out var address)
            ? SendRow(message, address)
            : throw new InvalidOperationException($"The bus has no publish address for {typeof(T).Name}.");

    /// <summary>A send to one address (a queue, or the short form <c>queue:name</c>).</summary>
    public ScheduledMessageRow SendRow<T>(T message, Uri address)
        where T : class
    {
        var messageId = NewId.NextGuid();
        var headers = new Dictionary<string, object>();
        if (Activity.Current?.Id is { } activityId)
        {
            headers[ActivityIdHeader] = activityId;
        }

        return new ScheduledMessageRow(
            messageId,
            DateTimeOffset.UtcNow,
            address,
            MessageUrn.ForTypeString<T>(),
            JsonSerializer.Serialize(message, SystemTextJsonMessageSerializer.Options),
            JsonSerializer.Serialize(new ScheduledHeaders(headers, null, null, null), SystemTextJsonMessageSerializer.Options),
            MessageId: messageId);
    }
}
