using System.Diagnostics;
using Npgsql;

namespace KlingService.Persistence;

/// <summary>
/// Creates or upgrades the schema before any hosted service (the bus among them) starts. A database
/// that is not up yet (a container starting alongside, a restart) is waited for, one log line per
/// attempt, for <c>Persistence:StartupTimeout</c> (60 s by default); after that the service gives up
/// with one line saying so, and <see cref="PostgresUnreachableException"/> makes it exit non-zero.
/// </summary>
public sealed partial class PostgresSchemaInitializer(
    NpgsqlDataSource dataSource, IConfiguration configuration, ILogger<PostgresSchemaInitializer> logger) : IHostedLifecycleService
{
    public const string StartupTimeoutKey = "Persistence:StartupTimeout";
    private static readonly TimeSpan DefaultStartupTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(10);

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var timeout = configuration.GetValue(StartupTimeoutKey, DefaultStartupTimeout);
        if (timeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"{StartupTimeoutKey} must be positive.");
        }

        // Only the address: the connection string may hold a password.
        var settings = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        var address = $"{settings.Host}:{settings.Port}";
        var clock = Stopwatch.StartNew();
        var pause = FirstPause;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await PostgresSchema.EnsureCreatedAsync(dataSource, cancellationToken);
                return;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsTransient(e))
            {
                if (clock.Elapsed + pause > timeout)
                {
                    var message = $"PostgreSQL at {address} is unreachable after {attempt} attempts over {Math.Round(clock.Elapsed.TotalSeconds)} s; the service cannot start.";
                    Unreachable(logger, message);
                    throw new PostgresUnreachableException(message);
                }

                NotReachableYet(logger, address, attempt, pause.TotalSeconds, e.Message);
                await Task.Delay(pause, cancellationToken);
                pause = pause * 2 < MaxPause ? pause * 2 : MaxPause;
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // Refused or timed-out connections and a server still starting are worth waiting for; a wrong
    // password or a missing database are not, and fail at once with their own message.
    private static bool IsTransient(Exception e) => e switch
    {
        PostgresException postgres => postgres.IsTransient,
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is System.Net.Sockets.SocketException or IOException or TimeoutException,
        TimeoutException or System.Net.Sockets.SocketException => true,
        _ => false,
    };

    [LoggerMessage(1, LogLevel.Warning, "PostgreSQL at {Address} is not reachable yet (attempt {Attempt}); trying again in {PauseSeconds} s: {Error}")]
    private static partial void NotReachableYet(ILogger logger, string address, int attempt, double pauseSeconds, string error);

    [LoggerMessage(2, LogLevel.Critical, "{Message}")]
    private static partial void Unreachable(ILogger logger, string message);
}

/// <summary>
/// The database could not be reached at start. Its message says all there is to say and is already
/// logged, so it carries no stack trace: the host's own log of the failed start stays one line.
/// </summary>
public sealed class PostgresUnreachableException(string message) : Exception(message)
{
    public override string? StackTrace => null;

    public override string ToString() => Message;
}
