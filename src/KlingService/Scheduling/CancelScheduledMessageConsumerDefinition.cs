using MassTransit;

namespace KlingService.Scheduling;

public sealed class CancelScheduledMessageConsumerDefinition : ConsumerDefinition<CancelScheduledMessageConsumer>
{
    public CancelScheduledMessageConsumerDefinition()
    {
        EndpointName = SchedulerQueue.Name;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<CancelScheduledMessageConsumer> consumerConfigurator,
        IRegistrationContext context) =>
        consumerConfigurator.UseMessageRetry(r => r.Incremental(30, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)));
}
