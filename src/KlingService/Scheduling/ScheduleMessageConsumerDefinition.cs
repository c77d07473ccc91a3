using MassTransit;

namespace KlingService.Scheduling;

public sealed class ScheduleMessageConsumerDefinition : ConsumerDefinition<ScheduleMessageConsumer>
{
    public ScheduleMessageConsumerDefinition()
    {
        EndpointName = SchedulerQueue.Name;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ScheduleMessageConsumer> consumerConfigurator,
        IRegistrationContext context) =>
        // A database restart must not drop schedules: keep retrying until it is back.
        consumerConfigurator.UseMessageRetry(r => r.Incremental(30, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)));
}
