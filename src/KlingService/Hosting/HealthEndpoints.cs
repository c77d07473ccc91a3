using KlingService.Generation;
using KlingService.Persistence;
using KlingService.Scheduling;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

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
            checks.AddCheck<SetAsideMessagesHealthCheck>("scheduled-messages", tags: [ReadyTag]);
        }

        return services;
    }

    /// <summary>
    /// <c>/health/live</c>: the process runs. <c>/health/ready</c>: the bus and the database are usable;
    /// the body is the overall status, "Healthy", "Degraded" or "Unhealthy".
    /// </summary>
    public static WebApplication MapKlingHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            // Degraded (scheduled messages set aside) answers 200 on purpose: the instance still
            // serves every other job, so a load balancer or orchestrator must keep it; the body says
            // "Degraded" for an operator and a monitor. Only Unhealthy takes the instance out.
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        });
        return app;
    }
}
