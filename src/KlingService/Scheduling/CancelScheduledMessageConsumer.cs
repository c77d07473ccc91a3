using MassTransit;
using MassTransit.Scheduling;

namespace KlingService.Scheduling;

/// <summary>Forgets a scheduled message (what <c>Unschedule</c> sends).</summary>
public sealed class CancelScheduledMessageConsumer(ScheduledMessageStore store) : IConsumer<CancelScheduledMessage>
{
    public Task Consume(ConsumeContext<CancelScheduledMessage> context) =>
        store.CancelAsync(context.Message.TokenId, context.CancellationToken);
}
