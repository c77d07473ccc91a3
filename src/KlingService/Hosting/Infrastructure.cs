using Npgsql;

namespace KlingService.Hosting;

/// <summary>
/// Where the service keeps its messages and state, read once from the connection strings:
/// RabbitMQ when <c>ConnectionStrings:RabbitMq</c> is set, PostgreSQL when <c>ConnectionStrings:Postgres</c> is.
/// Unset, both fall back to in-memory (the embedded mode).
/// </summary>
public sealed record Infrastructure(Uri? RabbitMq, string? Postgres)
{
    /// <summary>A setting that is gone; set, it stops the start with one line saying what to do instead.</summary>
    public const string RemovedDelayedExchange = "Scheduling:UseDelayedExchange";

    public bool IsDurable => Postgres is not null;

    public static Infrastructure From(IConfiguration configuration)
    {
        var rabbitMq = configuration.GetConnectionString("RabbitMq");
        var postgres = configuration.GetConnectionString("Postgres");
        // It ran the in-memory ledger behind a durable broker: a cap per instance, and state lost on restart.
        if (configuration[RemovedDelayedExchange] is { } delayedExchange && !delayedExchange.Equals("false", StringComparison.OrdinalIgnoreCase))
        {
            throw new StartupException(
                $"{RemovedDelayedExchange} is no longer supported (it kept the request ledger in one instance's memory): remove it, "
                + "and set ConnectionStrings:Postgres beside ConnectionStrings:RabbitMq.");
        }

        Uri? rabbitMqUri = null;
        if (!string.IsNullOrWhiteSpace(rabbitMq)
            && (!Uri.TryCreate(rabbitMq, UriKind.Absolute, out rabbitMqUri) || rabbitMqUri.Scheme is not ("amqp" or "amqps")))
        {
            throw new StartupException("ConnectionStrings:RabbitMq must be an amqp:// or amqps:// URI, e.g. amqp://guest:guest@localhost:5672/.");
        }

        if (!string.IsNullOrWhiteSpace(postgres))
        {
            try
            {
                _ = new NpgsqlConnectionStringBuilder(postgres);
            }
            catch (ArgumentException e)
            {
                throw new StartupException($"ConnectionStrings:Postgres is not a valid PostgreSQL connection string: {e.Message}");
            }
        }
        else
        {
            postgres = null;
        }

        if (rabbitMqUri is not null && postgres is null)
        {
            throw new StartupException(
                "ConnectionStrings:RabbitMq needs ConnectionStrings:Postgres: the request ledger, job state and schedules must survive restarts "
                + "and be shared by every instance, and the service keeps them in PostgreSQL.");
        }

        return new Infrastructure(rabbitMqUri, postgres);
    }
}
