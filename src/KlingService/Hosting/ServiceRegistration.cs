using KlingService.Generation;
using KlingService.Jobs;
using KlingService.Kling;
using KlingService.Outbox;
using KlingService.Persistence;
using KlingService.Scheduling;
using KlingService.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
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
            .Validate(o => o.MinCheckInterval <= o.MaxAimedCheckInterval, "Generation:MinCheckInterval must not exceed Generation:MaxAimedCheckInterval.")
            .Validate(o => o.TimingWarmAfter < o.TimingMemory,
                "Generation:TimingWarmAfter must be below Generation:TimingMemory: the model's weight never grows past its memory, so it would never be used.")
            .Validate(
                o => infrastructure.Postgres is not { } postgres || SagaConnections(o) <= new NpgsqlConnectionStringBuilder(postgres).MaxPoolSize,
                "Generation:SagaConcurrency is too high for the PostgreSQL pool: each status check holds a connection (two when its job ends) "
                + "across its Kling call; keep 2 × Generation:SagaConcurrency + 10 within the connection string's Maximum Pool Size (default 100).")
            .ValidateOnStart();
        services.AddSingleton<StatusCheckPolicy>();
        services.AddSingleton<StatusCheckPlanner>();
        // A stopping service sees its create calls through (their task ids are paid for): give them their whole bound.
        services.AddOptions<HostOptions>().Configure<IOptions<KlingOptions>>((host, kling) =>
            host.ShutdownTimeout = kling.Value.CreateTimeout + TimeSpan.FromSeconds(30));
        services.AddScoped<CheckTaskStatusActivity>();
        services.AddSingleton<LauncherSignal>();
        services.AddSingleton<ProviderAccess>();
        services.AddTaskLauncher();
        services.AddOptions<JobsOptions>().Bind(configuration.GetSection(JobsOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddHostedService<JobRecordCleanup>();
        services.AddVideoStorage(configuration, infrastructure);

        if (infrastructure.Postgres is { } postgres)
        {
            // Registered before the bus, so the schema exists before any message is handled.
            services.AddSingleton(_ => NpgsqlDataSource.Create(postgres));
            services.AddHostedService<PostgresSchemaInitializer>();
            services.AddSingleton<IRequestLedger, PostgresRequestLedger>();
            services.TryAddSingleton<ICommitObserver>(NoCommitObserver.Instance);
            services.AddSingleton<IJobTimingModel, PostgresJobTimingModel>();
            services.AddSingleton<OutboxPublisher>();
            services.TryAddSingleton<OutboxSignal>();
            services.AddSingleton<ScheduledMessageStore>();
            services.AddHostedService<ScheduledMessageDispatcher>();
            services.AddHostedService<StalledJobSweeper>();
        }
        else
        {
            services.AddSingleton<IRequestLedger, InMemoryRequestLedger>();
            services.AddSingleton<IJobTimingModel, InMemoryJobTimingModel>();
        }

        return services;
    }

    /// <summary>Connections the saga endpoint may hold at once, plus room for the launcher, the consumers and the scheduler.</summary>
    private static int SagaConnections(GenerationOptions options) => (2 * options.SagaConcurrency) + 10;
}
