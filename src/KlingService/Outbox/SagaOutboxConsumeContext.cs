using MassTransit;
using MassTransit.Middleware;
using MassTransit.Middleware.Outbox;

namespace KlingService.Outbox;

/// <summary>
/// The consume context the saga sees in durable mode. MassTransit's <see cref="OutboxConsumeContextProxy{TMessage}"/>
/// routes every Publish and Send (and, through the scheduler context it swaps in, every Schedule
/// and Unschedule) to <see cref="AddSend{T}"/>, which keeps them in the message's <see cref="SagaOutbox"/>
/// instead of sending. Only that path is used: there is no inbox here (a redelivered message is made
/// harmless by the saga's row lock, version check and state), so the inbox members are inert.
/// </summary>
public sealed class SagaOutboxConsumeContext<TMessage>(ConsumeContext<TMessage> context, IServiceProvider provider, SagaOutbox outbox)
    : OutboxConsumeContextProxy<TMessage>(context, ConsumeOptions, provider)
    where TMessage : class
{
    private static readonly OutboxConsumeOptions ConsumeOptions = new() { ConsumerType = "VideoJobState" };

    public override bool ContinueProcessing { get; set; } = true;

    public override bool IsMessageConsumed => false;

    public override bool IsOutboxDelivered => false;

    public override int ReceiveCount => 0;

    public override long? LastSequenceNumber => null;

    public override Task SetConsumed() => Task.CompletedTask;

    public override Task SetDelivered() => Task.CompletedTask;

    public override Task<List<OutboxMessageContext>> LoadOutboxMessages() => Task.FromResult(new List<OutboxMessageContext>());

    public override Task NotifyOutboxMessageDelivered(OutboxMessageContext message) => Task.CompletedTask;

    public override Task RemoveOutboxMessages() => Task.CompletedTask;

    public override Task AddSend<T>(SendContext<T> context)
    {
        outbox.Add(context);
        return Task.CompletedTask;
    }
}
