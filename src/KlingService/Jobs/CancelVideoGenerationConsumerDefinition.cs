using KlingService.Generation;
using MassTransit;

namespace KlingService.Jobs;

public sealed class CancelVideoGenerationConsumerDefinition : ConsumerDefinition<CancelVideoGenerationConsumer>
{
    public const string QueueName = "cancel-video-generation";

    public CancelVideoGenerationConsumerDefinition()
    {
        EndpointName = QueueName;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<CancelVideoGenerationConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(r =>
        {
            r.Handle<Exception>(TransientFailure.Matches);
            r.Exponential(5, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(300));
        });
        // The answer and the silencing leave only once the cancel is recorded.
        endpointConfigurator.UseInMemoryOutbox(context);
    }
}
