using System.CommandLine;

namespace KlingService.Cli;

/// <summary>The options every client command takes: where the broker is, and how to print.</summary>
public sealed class ClientOptions
{
    public Option<string?> RabbitMq { get; } = new("--rabbitmq")
    {
        Description = "The broker, amqp://user:pass@host:5672/vhost. Default: ConnectionStrings:RabbitMq (environment ConnectionStrings__RabbitMq, or appsettings.json).",
        HelpName = "amqp-uri",
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print one JSON object per line (the default when stdout is not a terminal).",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(RabbitMq);
        command.Options.Add(Json);
    }

    public CliOutput Output(ParseResult parsed) => new(parsed.GetValue(Json) || Console.IsOutputRedirected);

    public Uri Broker(ParseResult parsed) => BrokerAddress.Resolve(parsed.GetValue(RabbitMq), BrokerAddress.Configuration());
}
