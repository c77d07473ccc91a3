using MassTransit;

namespace KlingService.Generation;

public sealed class VideoJobStateMachineDefinition : SagaDefinition<VideoJobState>
{
    public const string QueueName = "video-job-state";

    public VideoJobStateMachineDefinition()
    {
        EndpointName = QueueName;
    }

    protected override void ConfigureSaga(
        IReceiveEndpointConfigurator endpointConfigurator,
        ISagaConfigurator<VideoJobState> sagaConfigurator,
        IRegistrationContext context)
    {
        // Two messages for one job can race for its row; the loser retries against the new version.
        endpointConfigurator.UseMessageRetry(r => r.Intervals(50, 200, 500, 1000, 2000));
        // Events and schedules leave only once the saga's new state is saved.
        endpointConfigurator.UseInMemoryOutbox(context);
    }
}
