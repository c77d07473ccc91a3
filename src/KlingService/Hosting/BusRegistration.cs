using System.Text.Json.Serialization;
using KlingService.Generation;
using MassTransit;

namespace KlingService.Hosting;

public static class BusRegistration
{
    /// <summary>The consumers and the saga. Shared by Program and the test harness so both run the same components.</summary>
    public static IBusRegistrationConfigurator AddKlingGeneration(this IBusRegistrationConfigurator bus)
    {
        bus.DisableUsageTelemetry();
        bus.SetKebabCaseEndpointNameFormatter();
        bus.AddConsumer<GenerateVideoConsumer, GenerateVideoConsumerDefinition>();
        bus.AddConsumer<GenerateVideoFaultConsumer>();
        bus.AddSagaStateMachine<VideoJobStateMachine, VideoJobState, VideoJobStateMachineDefinition>()
            .InMemoryRepository();
        return bus;
    }

    /// <summary>Wire format and scheduling every transport of the service uses.</summary>
    public static void UseKlingConventions(this IBusFactoryConfigurator bus)
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
    }

    /// <summary>
    /// The whole bus: components plus transport. Program passes it to AddMassTransit and the tests to
    /// AddMassTransitTestHarness, so both run exactly the same wiring.
    /// </summary>
    public static IBusRegistrationConfigurator AddKlingBus(this IBusRegistrationConfigurator bus)
    {
        bus.AddKlingGeneration();
        // Embedded mode: in-memory transport, saga state and scheduling.
        bus.AddDelayedMessageScheduler();
        bus.UsingInMemory((context, cfg) =>
        {
            cfg.UseKlingConventions();
            cfg.UseDelayedMessageScheduler();
            cfg.ConfigureEndpoints(context);
        });
        return bus;
    }
}
