using MassTransit;
using Npgsql;

namespace KlingService.Persistence;

/// <summary>
/// While PostgreSQL is away, the messages that need it wait rather than fail: each is retried in place, holding its
/// endpoint's concurrency slot, so an endpoint takes no more messages and the rest stay in their queues, and everything
/// resumes by itself when the database is back. Without this a command arriving during a long outage ran out of
/// retries, was handed to the (PostgreSQL-backed) scheduler for redelivery and ended in its error queue, unanswered.
/// </summary>
public static class DatabaseOutage
{
    // Each retry opens one connection; against a server that is down that fails at once.
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    /// <summary>A failure that says the database could not be reached or is restarting, nothing about the message.</summary>
    public static bool Matches(Exception exception) => exception switch
    {
        NpgsqlException database => database.IsTransient || database.InnerException is IOException or System.Net.Sockets.SocketException,
        AggregateException { InnerExceptions: [var single] } => Matches(single),
        _ => exception.InnerException is { } inner && Matches(inner),
    };

    /// <summary>
    /// Holds every message of every endpoint while its handling fails for want of the database. Configured on the bus, so
    /// it sits outside each endpoint's own retries and redeliveries, which must let such failures through to it.
    /// </summary>
    public static void UseHoldWhileDatabaseAway(this IConsumePipeConfigurator bus, ILoggerFactory loggers) =>
        bus.UseMessageRetry(retry =>
        {
            retry.Handle<Exception>(Matches);
            // int.MaxValue attempts: the outage is waited out, however long; a stop ends the wait (the message stays queued).
            retry.Incremental(int.MaxValue, RetryInterval, TimeSpan.Zero);
            retry.ConnectRetryObserver(new DatabaseOutageObserver(loggers.CreateLogger(typeof(DatabaseOutage).FullName!)));
        });
}
