using Npgsql;

namespace KlingService.Persistence;

/// <summary>Creates or upgrades the schema before any hosted service (the bus among them) starts.</summary>
public sealed class PostgresSchemaInitializer(NpgsqlDataSource dataSource) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => PostgresSchema.EnsureCreatedAsync(dataSource, cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
