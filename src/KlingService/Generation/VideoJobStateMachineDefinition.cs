using KlingService.Outbox;
using KlingService.Persistence;
using MassTransit;
using Microsoft.Extensions.Options;

namespace KlingService.Generation;

public sealed class VideoJobStateMachineDefinition : SagaDefinition<VideoJobState>
{
    public const string QueueName = "video-job-state";

    /// <summary>The saga's queue, for what is meant for the jobs alone.</summary>
    public static readonly Uri Address = new($"queue:{QueueName}");

    public VideoJobStateMachineDefinition(IOptions<GenerationOptions> options)
    {
        EndpointName = QueueName;
        // A status check holds its database transaction across the Kling call: bounded below the
        // connection pool (validated at start), so a slow provider cannot starve every saga message.
        ConcurrentMessageLimit = options.Value.SagaConcurrency;
    }

    protected override void ConfigureSaga(
        IReceiveEndpointConfigurator endpointConfigurator,
        ISagaConfigurator<VideoJobState> sagaConfigurator,
        IRegistrationContext context)
    {
        // Two messages for one job can race for its row: retry in place rather than let a status check fall into the
        // error queue. A database that is away is waited out by the bus (DatabaseOutage).
        endpointConfigurator.UseMessageRetry(r =>
        {
            r.Handle<SagaConcurrencyException>();
            r.Handle<Exception>(TransientFailure.Matches);
            r.Exponential(15, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(100));
        });
        // Events and schedules leave only once the saga's new state is saved. In durable mode the
        // PostgreSQL repository is the outbox itself (they commit with the state, see
        // PostgresSagaRepositoryContextFactory); in memory, they wait in memory for the consume to end.
        if (context.GetService(typeof(OutboxSignal)) is null)
        {
            endpointConfigurator.UseInMemoryOutbox(context);
        }
    }
}
