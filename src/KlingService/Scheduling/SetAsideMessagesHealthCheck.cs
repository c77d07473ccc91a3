using KlingService.Persistence;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace KlingService.Scheduling;

/// <summary>
/// Degraded while any scheduled message is set aside: the service still works, but some job's check,
/// deadline or redelivery needs an operator's look (see <see cref="PostgresSchema.ScheduledMessagesDead"/>).
/// </summary>
public sealed class SetAsideMessagesHealthCheck(ScheduledMessageStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var setAside = await store.CountSetAsideAsync(cancellationToken);
            return setAside == 0
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Degraded(
                    $"{setAside} scheduled message(s) failed repeatedly and were set aside in {PostgresSchema.ScheduledMessagesDead}.",
                    data: new Dictionary<string, object> { ["setAside"] = setAside });
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // The postgres check reports the database itself; this one cannot tell.
            return HealthCheckResult.Unhealthy("Cannot count set-aside scheduled messages.", e);
        }
    }
}
