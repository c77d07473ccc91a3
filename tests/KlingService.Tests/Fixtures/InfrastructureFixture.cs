namespace KlingService.Tests.Fixtures;

/// <summary>The integration tests' shared <see cref="RealInfrastructure"/>, started once for the collection.</summary>
public sealed class InfrastructureFixture : IAsyncLifetime
{
    private RealInfrastructure _infrastructure = null!;

    public LocalRabbitMq? LocalRabbitMq => _infrastructure.LocalRabbitMq;

    public LocalPostgres? LocalPostgres => _infrastructure.LocalPostgres;

    /// <summary>The broker this run started, for a test that drives it with rabbitmqctl (<paramref name="why"/>).</summary>
    public LocalRabbitMq OwnBroker(string why) => LocalRabbitMq
        ?? throw new InvalidOperationException($"This test {why}, so it needs the locally started RabbitMQ (unset RABBITMQ_URL).");

    /// <summary>The database server this run started, for a test that drives it with its own tools (<paramref name="why"/>).</summary>
    public LocalPostgres OwnDatabaseServer(string why) => LocalPostgres
        ?? throw new InvalidOperationException($"This test {why}, so it needs the locally started PostgreSQL (unset POSTGRES_URL).");

    public async Task InitializeAsync() => _infrastructure = await RealInfrastructure.StartAsync();

    public Task<TestEnvironment> CreateEnvironmentAsync() => _infrastructure.CreateEnvironmentAsync();

    public async Task DisposeAsync() => await _infrastructure.DisposeAsync();
}
