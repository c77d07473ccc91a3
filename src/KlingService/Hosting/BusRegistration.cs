using System.Text.Json.Serialization;
using KlingService.Generation;
using KlingService.Jobs;
using KlingService.Outbox;
using KlingService.Persistence;
using KlingService.Scheduling;
using KlingService.Storage;
using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace KlingService.Hosting;

public static class BusRegistration
{
    /// <summary>
    /// The whole bus: components plus transport, chosen by <see cref="Infrastructure"/>. Program
    /// passes it to AddMassTransit and the tests to AddMassTransitTestHarness, so both run exactly
    /// the same wiring.
    /// </summary>
    public static IBusRegistrationConfigurator AddKlingBus(this IBusRegistrationConfigurator bus, Infrastructure infrastructure)
    {
        bus.DisableUsageTelemetry();
        bus.SetKebabCaseEndpointNameFormatter();
        bus.AddConsumer<GenerateVideoConsumer, GenerateVideoConsumerDefinition>();
        bus.AddConsumer<GenerateVideoFaultConsumer>();
        bus.AddConsumer<GetVideoJobConsumer, GetVideoJobConsumerDefinition>();
        bus.AddConsumer<CancelVideoGenerationConsumer, CancelVideoGenerationConsumerDefinition>();
        bus.AddConsumer<StoreVideoConsumer, StoreVideoConsumerDefinition>();
        var saga = bus.AddSagaStateMachine<VideoJobStateMachine, VideoJobState, VideoJobStateMachineDefinition>();

        if (infrastructure.IsDurable)
        {
            saga.PostgresRepository();
            // The saga's repository is its outbox: what it publishes, sends and schedules commits with
            // its state, and this wakes the dispatcher that sends it (and makes the saga endpoint skip
            // the in-memory outbox).
            bus.TryAddSingleton<OutboxSignal>();
            // Schedules of everything else go to our own scheduler endpoint, which keeps them in PostgreSQL.
            bus.AddMessageScheduler(SchedulerQueue.Address);
            bus.AddConsumer<ScheduleMessageConsumer, ScheduleMessageConsumerDefinition>();
            bus.AddConsumer<CancelScheduledMessageConsumer, CancelScheduledMessageConsumerDefinition>();
        }
        else
        {
            saga.InMemoryRepository();
            bus.AddDelayedMessageScheduler();
        }

        if (infrastructure.RabbitMq is { } rabbitMq)
        {
            bus.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(rabbitMq);
                cfg.UseKlingConventions(context, infrastructure);
                cfg.ConfigureEndpoints(context);
            });
        }
        else
        {
            bus.UsingInMemory((context, cfg) =>
            {
                cfg.UseKlingConventions(context, infrastructure);
                cfg.ConfigureEndpoints(context);
            });
        }

        return bus;
    }

    /// <summary>Wire format, scheduling and database-outage handling every transport of the service uses.</summary>
    private static void UseKlingConventions(this IBusFactoryConfigurator bus, IBusRegistrationContext context, Infrastructure infrastructure)
    {
        // Enums travel by name ("Professional"), so clients in any language can send commands.
        bus.ConfigureJsonSerializerOptions(options =>
        {
            if (!options.Converters.Any(c => c is JsonStringEnumConverter))
            {
                options.Converters.Add(new JsonStringEnumConverter());
            }

            return options;
        });

        if (infrastructure.IsDurable)
        {
            bus.UseMessageScheduler(SchedulerQueue.Address);
            bus.UseHoldWhileDatabaseAway(context.GetRequiredService<ILoggerFactory>());
        }
        else
        {
            // Only the embedded mode gets here (RabbitMQ always comes with PostgreSQL): the in-memory transport's own delay.
            bus.UseDelayedMessageScheduler();
        }
    }
}
