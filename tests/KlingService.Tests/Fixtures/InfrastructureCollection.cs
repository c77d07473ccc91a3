namespace KlingService.Tests.Fixtures;

/// <summary>Integration tests share one RabbitMQ and one PostgreSQL, and run one at a time (they restart them).</summary>
[CollectionDefinition(Name)]
public sealed class InfrastructureCollection : ICollectionFixture<InfrastructureFixture>
{
    public const string Name = "infrastructure";
}
