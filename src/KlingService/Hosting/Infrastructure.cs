using Npgsql;

namespace KlingService.Hosting;

/// <summary>
/// Where the service keeps its messages and state, read once from the connection strings:
/// RabbitMQ when <c>ConnectionStrings:RabbitMq</c> is set, PostgreSQL when <c>ConnectionStrings:Postgres</c> is.
/// Unset, both fall back to in-memory (the embedded mode).
/// </summary>
public sealed record Infrastructure(Uri? RabbitMq, string? Postgres, bool BrokerHasDelayedExchange)
{
    public bool IsDurable => Postgres is not null;

    public static Infrastructure From(IConfiguration configuration)
    {
        var rabbitMq = configuration.GetConnectionString("RabbitMq");
        var postgres = configuration.GetConnectionString("Postgres");
        var delayedExchange = configuration.GetValue<bool>("Scheduling:UseDelayedExchange");

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

        if (rabbitMqUri is not null && postgres is null && !delayedExchange)
        {
            throw new StartupException(
                "ConnectionStrings:RabbitMq needs ConnectionStrings:Postgres: job state and schedules must survive restarts, and the service "
                + "schedules through PostgreSQL. Only a broker with the delayed-message-exchange plugin may go without it (Scheduling:UseDelayedExchange=true).");
        }

        return new Infrastructure(rabbitMqUri, postgres, delayedExchange);
    }
}
