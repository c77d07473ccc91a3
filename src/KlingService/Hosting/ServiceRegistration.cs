using KlingService.Generation;
using KlingService.Kling;
using KlingService.Persistence;
using KlingService.Scheduling;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace KlingService.Hosting;

public static class ServiceRegistration
{
    /// <summary>Everything the consumers and the saga depend on: options, the Kling client, the request ledger, the stores.</summary>
    public static IServiceCollection AddKlingService(this IServiceCollection services, IConfiguration configuration, Infrastructure infrastructure)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddKlingClient(configuration);
        services.AddOptions<GenerationOptions>()
            .Bind(configuration.GetSection(GenerationOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(o => o.MinCheckInterval <= o.MaxCheckInterval, "Generation:MinCheckInterval must not exceed Generation:MaxCheckInterval.")
            .ValidateOnStart();
        services.AddSingleton<StatusCheckPolicy>();
        services.AddScoped<CheckTaskStatusActivity>();
        services.AddSingleton<LauncherSignal>();
        services.AddHostedService<TaskLauncher>();

        if (infrastructure.Postgres is { } postgres)
        {
            // Registered before the bus, so the schema exists before any message is handled.
            services.AddSingleton(_ => NpgsqlDataSource.Create(postgres));
            services.AddHostedService<PostgresSchemaInitializer>();
            services.AddSingleton<IRequestLedger, PostgresRequestLedger>();
            services.AddSingleton<ScheduledMessageStore>();
            services.AddHostedService<ScheduledMessageDispatcher>();
            services.AddHostedService<StalledJobSweeper>();
        }
        else
        {
            services.AddSingleton<IRequestLedger, InMemoryRequestLedger>();
        }

        return services;
    }
}
