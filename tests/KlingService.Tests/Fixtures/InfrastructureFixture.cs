namespace KlingService.Tests.Fixtures;

/// <summary>The integration tests' shared <see cref="RealInfrastructure"/>, started once for the collection.</summary>
public sealed class InfrastructureFixture : IAsyncLifetime
{
    private RealInfrastructure _infrastructure = null!;

    public LocalRabbitMq? LocalRabbitMq => _infrastructure.LocalRabbitMq;

    public LocalPostgres? LocalPostgres => _infrastructure.LocalPostgres;

    public async Task InitializeAsync() => _infrastructure = await RealInfrastructure.StartAsync();

    public Task<TestEnvironment> CreateEnvironmentAsync() => _infrastructure.CreateEnvironmentAsync();

    public async Task DisposeAsync() => await _infrastructure.DisposeAsync();
}
