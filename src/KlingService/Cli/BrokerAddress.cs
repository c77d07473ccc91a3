namespace KlingService.Cli;

/// <summary>Which RabbitMQ the client commands talk to, and how to name it without its password.</summary>
public static class BrokerAddress
{
    public const string ConnectionStringKey = "ConnectionStrings:RabbitMq";

    /// <summary>The service's own settings sources, so a CLI run beside a deployment finds the same broker.</summary>
    public static IConfiguration Configuration() => new ConfigurationBuilder()
        .SetBasePath(AppContext.BaseDirectory)
        .AddJsonFile("appsettings.json", optional: true)
        .AddEnvironmentVariables()
        .Build();

    /// <summary>The <c>--rabbitmq</c> option first, else <c>ConnectionStrings:RabbitMq</c>; anything but an amqp(s) URI is refused.</summary>
    public static Uri Resolve(string? option, IConfiguration configuration)
    {
        var value = string.IsNullOrWhiteSpace(option) ? configuration.GetConnectionString("RabbitMq") : option;
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new CliException($"no broker: pass --rabbitmq amqp://user:pass@host:5672/vhost or set {ConnectionStringKey} (environment ConnectionStrings__RabbitMq).");
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
        {
            // Not echoed: a malformed URI may still hold a password.
            throw new CliException("the broker must be an amqp:// or amqps:// URI, e.g. amqp://guest:guest@localhost:5672/.");
        }

        return uri;
    }

    /// <summary>The user the URI logs in as; MassTransit and RabbitMQ.Client default to guest.</summary>
    public static string User(Uri broker) =>
        broker.UserInfo.Length == 0 ? "guest" : Uri.UnescapeDataString(broker.UserInfo.Split(':')[0]);

    /// <summary>host:port/vhost, never the user or password.</summary>
    public static string Describe(Uri broker) =>
        $"{broker.Host}:{(broker.IsDefaultPort || broker.Port < 0 ? (broker.Scheme == "amqps" ? 5671 : 5672) : broker.Port)}{(broker.AbsolutePath.Length > 1 ? broker.AbsolutePath : "/")}";
}
