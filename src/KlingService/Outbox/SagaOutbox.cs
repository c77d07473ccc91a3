using System.Diagnostics;
using System.Text.Json;
using KlingService.Scheduling;
using MassTransit;
using MassTransit.Scheduling;
using MassTransit.Serialization;

namespace KlingService.Outbox;

/// <summary>
/// What one saga message sends, held until the saga's transaction writes it (see
/// <see cref="Persistence.SagaSession.WriteOutboxAsync"/>). Every message keeps its envelope: the
/// MessageId it was given (the dispatcher sends it with that id on every attempt), correlation,
/// conversation and initiator ids, and the headers, <c>MT-Activity-Id</c> among them so the trace goes on.
/// The scheduler's own messages do not travel: a <see cref="ScheduleMessage"/> becomes the scheduled
/// row itself (its token is the ScheduleMessage's CorrelationId, as the scheduler consumer keeps it),
/// a <see cref="CancelScheduledMessage"/> the deletion of that row.
/// </summary>
public sealed class SagaOutbox
{
    private const string ActivityIdHeader = "MT-Activity-Id";

    private readonly List<OutboxEntry> _entries = [];

    public IReadOnlyList<OutboxEntry> Entries => _entries;

    /// <summary>True when the transaction leaves rows for the dispatcher.</summary>
    public bool HasMessages => _entries.Any(e => e is not OutboxEntry.Cancelled);

    public void Add<T>(SendContext<T> context)
        where T : class
    {
        switch (context.Message)
        {
            case ScheduleMessage schedule:
                _entries.Add(new OutboxEntry.Scheduled(new ScheduledMessageRow(
                    schedule.CorrelationId,
                    new DateTimeOffset(DateTime.SpecifyKind(schedule.ScheduledTime, DateTimeKind.Utc)),
                    schedule.Destination,
                    schedule.PayloadType.FirstOrDefault() ?? throw new InvalidOperationException("ScheduleMessage without a payload type."),
                    JsonSerializer.Serialize(schedule.Payload, schedule.Payload.GetType(), SystemTextJsonMessageSerializer.Options),
                    Headers(context),
                    MessageId: NewId.NextGuid())));
                break;
            case CancelScheduledMessage cancel:
                _entries.Add(new OutboxEntry.Cancelled(cancel.TokenId));
                break;
            default:
                var messageId = context.MessageId ?? NewId.NextGuid();
                context.MessageId = messageId;
                _entries.Add(new OutboxEntry.DueNow(new ScheduledMessageRow(
                    messageId,
                    DateTimeOffset.UtcNow,
                    context.DestinationAddress ?? throw new InvalidOperationException($"A {typeof(T).Name} without a destination address."),
                    MessageUrn.ForTypeString<T>(),
                    JsonSerializer.Serialize(context.Message, typeof(T), SystemTextJsonMessageSerializer.Options),
                    Headers(context),
                    MessageId: messageId)));
                break;
        }
    }

    private static string Headers(SendContext context)
    {
        var headers = context.Headers.GetAll().ToDictionary(h => h.Key, h => h.Value);
        // MassTransit's outbox send activity sets the header when tracing listens; else the consume's own.
        if (!headers.ContainsKey(ActivityIdHeader) && Activity.Current?.Id is { } activityId)
        {
            headers[ActivityIdHeader] = activityId;
        }

        return JsonSerializer.Serialize(
            new ScheduledHeaders(headers, context.CorrelationId, context.ConversationId, context.InitiatorId),
            SystemTextJsonMessageSerializer.Options);
    }
}
