using KlingService.Generation;
using KlingService.Persistence;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace KlingService.Hosting;

public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    /// <summary>The database check; MassTransit adds its own bus check (tagged "ready") with AddMassTransit.</summary>
    public static IServiceCollection AddKlingHealthChecks(this IServiceCollection services, Infrastructure infrastructure)
    {
        var checks = services.AddHealthChecks();
        checks.AddCheck<ProviderAccess>("kling-key", tags: [ReadyTag]);
        if (infrastructure.IsDurable)
        {
            checks.AddCheck<PostgresHealthCheck>("postgres", tags: [ReadyTag]);
        }

        return services;
    }

    /// <summary><c>/health/live</c>: the process runs. <c>/health/ready</c>: the bus and the database are usable.</summary>
    public static WebApplication MapKlingHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) });
        return app;
    }
}
