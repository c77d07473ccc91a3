using KlingService.Persistence;

namespace KlingService.Hosting;

/// <summary>The service itself, as the binary runs it without a command: a start that fails is one line on stderr and a non-zero exit.</summary>
public static class ServiceRun
{
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        try
        {
            var (app, simulator) = await KlingHost.BuildAsync(args, cancellationToken: cancellationToken);
            await using var simulatorLifetime = simulator;
            await app.RunAsync();
            return 0;
        }
        catch (Exception e) when (StartupFailure.Describe(e) is { } line)
        {
            await Console.Error.WriteLineAsync($"KlingService cannot start: {line}");
            return 2;
        }
        catch (PostgresUnreachableException)
        {
            // Already said in one log line; a stack trace would add nothing.
            return 1;
        }
    }
}
