using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace KlingService.Cli;

/// <summary>
/// One plain AMQP connection before the bus starts, so that what stops a command is told apart: a refused
/// login, a virtual host that is missing (or closed to the user), or a broker that cannot be reached.
/// The bus itself would retry each of them alike until its timeout.
/// </summary>
public static class BrokerProbe
{
    private const ushort NotAllowed = 530;

    public static async Task CheckAsync(Uri broker, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory
        {
            Uri = broker,
            AutomaticRecoveryEnabled = false,
            RequestedConnectionTimeout = timeout,
            ClientProvidedName = "kling-cli-probe",
        };
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(timeout);
        try
        {
            await using var connection = await factory.CreateConnectionAsync(bound.Token);
            // The broker refuses a virtual host by closing the connection it just accepted; a channel's round trip waits for that answer.
            await using var channel = await connection.CreateChannelAsync(cancellationToken: bound.Token);
            await connection.CloseAsync(bound.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(Describe(e, broker, timeout));
        }
    }

    /// <summary>The one line for a failed connection; never the password, nor an exception's text (it may carry the URI).</summary>
    public static string Describe(Exception failure, Uri broker, TimeSpan timeout)
    {
        var where = BrokerAddress.Describe(broker);
        var user = BrokerAddress.User(broker);
        var chain = Chain(failure).ToList();
        if (chain.OfType<AuthenticationFailureException>().Any()
            || chain.OfType<PossibleAuthenticationFailureException>().Any())
        {
            return $"RabbitMQ at {where} refused the login of user '{user}': check the user and password.";
        }

        if (chain.OfType<OperationInterruptedException>().Any(e => e.ShutdownReason?.ReplyCode == NotAllowed))
        {
            var vhost = broker.AbsolutePath.Length > 1 ? Uri.UnescapeDataString(broker.AbsolutePath[1..]) : "/";
            return $"RabbitMQ at {where} has no virtual host '{vhost}' that user '{user}' may use: create it (rabbitmqctl add_vhost) "
                + "or grant the user access (rabbitmqctl set_permissions).";
        }

        return chain.Any(e => e is OperationCanceledException or TimeoutException)
            ? $"cannot reach RabbitMQ at {where} within {timeout.TotalSeconds:0} s."
            : $"cannot reach RabbitMQ at {where} (nothing answers there, or the connection was refused).";
    }

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain))
                {
                    yield return inner;
                }
            }
        }
    }
}
