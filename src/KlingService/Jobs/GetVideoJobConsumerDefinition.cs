using MassTransit;

namespace KlingService.Jobs;

public sealed class GetVideoJobConsumerDefinition : ConsumerDefinition<GetVideoJobConsumer>
{
    public const string QueueName = "get-video-job";

    public GetVideoJobConsumerDefinition()
    {
        EndpointName = QueueName;
    }
}
