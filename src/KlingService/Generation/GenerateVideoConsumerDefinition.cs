using MassTransit;

namespace KlingService.Generation;

public sealed class GenerateVideoConsumerDefinition : ConsumerDefinition<GenerateVideoConsumer>
{
    public const string QueueName = "generate-video";

    // Admission is one short database write per command; no paid call happens here.
    private const int AdmissionConcurrency = 16;

    public GenerateVideoConsumerDefinition()
    {
        EndpointName = QueueName;
        ConcurrentMessageLimit = AdmissionConcurrency;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<GenerateVideoConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // The consumer only talks to the database. Quick retries first; a database that stays away is waited out by the
        // bus (DatabaseOutage), never handed to the scheduler, which needs the database too. Other transient failures
        // are redelivered through the message scheduler (no broker plugin needed).
        endpointConfigurator.UseScheduledRedelivery(r =>
        {
            r.Handle<Exception>(TransientFailure.Matches);
            r.Intervals(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2));
        });
        endpointConfigurator.UseMessageRetry(r =>
        {
            r.Handle<Exception>(TransientFailure.Matches);
            r.Exponential(3, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(300));
        });
        // Events leave only when the consumer has finished, so a retried attempt publishes nothing twice.
        endpointConfigurator.UseInMemoryOutbox(context);
    }
}
