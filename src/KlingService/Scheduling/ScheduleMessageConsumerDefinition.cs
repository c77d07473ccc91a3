using KlingService.Persistence;
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
        // A database that is away is waited out by the bus (DatabaseOutage), however long; anything else is tried again
        // for a few minutes before the schedule is set aside in the error queue.
        consumerConfigurator.UseMessageRetry(r =>
        {
            r.Handle<Exception>(e => !DatabaseOutage.Matches(e));
            r.Incremental(30, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1));
        });
}
