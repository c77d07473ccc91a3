namespace KlingService.Tests.Fixtures;

/// <summary>One test's own virtual host and database on the shared servers.</summary>
public sealed record TestEnvironment(Uri RabbitMq, string Postgres);
