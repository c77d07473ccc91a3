using System.Text.Json;
using MassTransit;
using MassTransit.Scheduling;
using MassTransit.Serialization;

namespace KlingService.Scheduling;

/// <summary>
/// Takes MassTransit's ScheduleMessage (what <c>Schedule</c> and scheduled redelivery send) and
/// keeps it in PostgreSQL until it is due. The envelope's headers are kept with it, the trace's
/// <c>MT-Activity-Id</c> among them, so the delivered message continues the job's trace.
/// </summary>
public sealed class ScheduleMessageConsumer(ScheduledMessageStore store) : IConsumer<ScheduleMessage>
{
    public async Task Consume(ConsumeContext<ScheduleMessage> context)
    {
        var message = context.Message;
        var headers = new ScheduledHeaders(
            context.Headers.GetAll().ToDictionary(h => h.Key, h => h.Value),
            context.CorrelationId,
            context.ConversationId,
            context.InitiatorId);

        await store.SaveAsync(
            new ScheduledMessageRow(
                message.CorrelationId,
                new DateTimeOffset(DateTime.SpecifyKind(message.ScheduledTime, DateTimeKind.Utc)),
                message.Destination,
                message.PayloadType.FirstOrDefault() ?? throw new InvalidOperationException("ScheduleMessage without a payload type."),
                JsonSerializer.Serialize(message.Payload, SystemTextJsonMessageSerializer.Options),
                JsonSerializer.Serialize(headers, SystemTextJsonMessageSerializer.Options)),
            context.CancellationToken);
    }
}
