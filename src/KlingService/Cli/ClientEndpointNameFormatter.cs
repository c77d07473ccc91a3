using MassTransit;

namespace KlingService.Cli;

/// <summary>
/// Names the CLI's own temporary queues and exchanges <c>&lt;user&gt;.kling-cli-&lt;tag&gt;-&lt;id&gt;</c>, after the
/// broker user it logs in as. MassTransit's default names start with the machine's name, which no
/// permission can foresee; with the user's name first, a client user's configure and read
/// permissions can allow exactly its own queues (README, Production) and nothing of the service's.
/// </summary>
public sealed class ClientEndpointNameFormatter(string user) : KebabCaseEndpointNameFormatter(false)
{
    // Queue names take letters, digits, '-', '_', '.' and ':'; any other character of a user name becomes '_'.
    public static ClientEndpointNameFormatter For(Uri broker) =>
        new(new string([.. BrokerAddress.User(broker).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]));

    /// <summary>What every name of this client starts with.</summary>
    public string OwnPrefix => $"{user}.";

    public override string TemporaryEndpoint(string tag) => $"{OwnPrefix}kling-cli-{tag}-{Guid.NewGuid():N}";
}
