using MassTransit;
using Microsoft.Extensions.Options;

namespace KlingService.Generation;

public sealed class GenerateVideoConsumerDefinition : ConsumerDefinition<GenerateVideoConsumer>
{
    public const string QueueName = "generate-video";

    private readonly GenerationOptions _options;

    public GenerateVideoConsumerDefinition(IOptions<GenerationOptions> options)
    {
        _options = options.Value;
        EndpointName = QueueName;
        ConcurrentMessageLimit = _options.CreateConcurrency;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<GenerateVideoConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // Outermost: when quick retries are spent, wait through the message scheduler (not the
        // broker's delayed-exchange plugin), so a busy or broken provider never fails a job early.
        endpointConfigurator.UseScheduledRedelivery(r =>
        {
            r.Handle<Exception>(e => TransientFailure.Matches(e) || e is RequestInProgressException);
            r.Exponential(_options.CreateRedeliveryLimit, _options.CreateRedeliveryMinInterval, _options.CreateRedeliveryMaxInterval, _options.CreateRedeliveryMinInterval);
        });
        endpointConfigurator.UseMessageRetry(r =>
        {
            r.Handle<Exception>(TransientFailure.Matches);
            r.Exponential(_options.CreateRetryLimit, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(300));
        });
        // Events leave only when the consumer has finished, so a retried attempt publishes nothing twice.
        endpointConfigurator.UseInMemoryOutbox(context);
    }
}
