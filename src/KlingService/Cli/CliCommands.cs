using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using KlingService.Hosting;

namespace KlingService.Cli;

/// <summary>The client commands of the service binary, for a running deployment over RabbitMQ.</summary>
public static class CliCommands
{
    // Ctrl+C ends watching normally: time to leave the broker cleanly (stop the temporary queue and the
    // connection) before System.CommandLine gives up on the command and exits 130 itself (after 2 s by default).
    private static readonly InvocationConfiguration ClientInvocation = new() { ProcessTerminationTimeout = TimeSpan.FromSeconds(15) };

    // The service itself: the host handles SIGTERM and stops within HostOptions.ShutdownTimeout (create calls in
    // flight are seen through: their task ids are paid for); System.CommandLine must not cut that short after 2 s.
    private static readonly InvocationConfiguration HostInvocation = new() { ProcessTerminationTimeout = null };

    public static void AddTo(RootCommand root)
    {
        root.Subcommands.Add(SubmitCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(CancelCommand.Create());
        root.Subcommands.Add(WatchCommand.Create());
    }

    /// <summary>
    /// Runs what the arguments ask for. A command line that does not parse is one line on stderr and
    /// exit 2, like any other bad input; <c>--help</c> wins over a missing required option.
    /// </summary>
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is ParseErrorAction)
        {
            var command = parsed.CommandResult.Command;
            await Console.Error.WriteLineAsync(
                $"{(command == root ? "KlingService" : command.Name)}: {string.Join(" ", parsed.Errors.Select(e => e.Message))} (see --help)");
            return ExitCodes.BadInput;
        }

        var chosen = parsed.CommandResult.Command;
        // With a paid API a typo must never send a job: an option or word no command knows is refused before anything connects.
        var problem = parsed.Action is HelpAction ? null
            : chosen == root ? SettingArguments.FindProblem(parsed.UnmatchedTokens, SettingArguments.Catalogue())
            : parsed.UnmatchedTokens.Count > 0 ? $"unknown option or argument '{parsed.UnmatchedTokens[0]}'"
            : null;
        if (problem is not null)
        {
            await Console.Error.WriteLineAsync($"{(chosen == root ? "KlingService" : chosen.Name)}: {problem} (see --help)");
            return ExitCodes.BadInput;
        }

        return await parsed.InvokeAsync(chosen is ClientCommand ? ClientInvocation : chosen == root ? HostInvocation : null);
    }

    /// <summary>A command's body, with bad input and unreachable brokers turned into one line on stderr.</summary>
    public static async Task<int> GuardAsync(Func<Task<int>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await body();
        }
        catch (CliException e)
        {
            await Console.Error.WriteLineAsync($"KlingService: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }
    }
}
