using System.CommandLine;
using KlingService.Contracts;
using Spectre.Console;

namespace KlingService.Cli;

/// <summary>
/// <c>cancel</c>: sends CancelVideoGeneration. The service does not reply to it; it answers the job's
/// client with VideoFailed(Cancelled), or changes nothing for a request that ended or is unknown.
/// So the command listens for that answer and asks the status until one of them tells the outcome.
/// </summary>
public static class CancelCommand
{
    private static readonly TimeSpan AskEvery = TimeSpan.FromMilliseconds(500);

    public static Command Create()
    {
        var client = new ClientOptions();
        var requestId = new Argument<Guid>("requestId") { Description = "The RequestId of the GenerateVideo command.", CustomParser = ArgumentParsers.RequestId };
        var timeout = new Option<TimeSpan>("--timeout")
        {
            Description = "How long to wait for the outcome (e.g. 30s, 2m).", DefaultValueFactory = _ => TimeSpan.FromSeconds(30), CustomParser = ArgumentParsers.Duration, HelpName = "duration",
        };
        var command = new ClientCommand("cancel", "Cancel a request (exit 0 cancelled, 5 unknown, 6 not confirmed in time, 7 already ended).") { requestId, timeout };
        client.AddTo(command);
        command.SetAction((parsed, cancellationToken) => CliCommands.GuardAsync(async () =>
        {
            var output = client.Output(parsed);
            var id = parsed.GetValue(requestId);
            await using var bus = await CliBus.ConnectAsync(client.Broker(parsed), cancellationToken);
            await using var feed = await bus.SubscribeAsync(candidate => candidate == id, cancellationToken);
            await bus.SendAsync(new CancelVideoGeneration(id), cancellationToken);

            using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            giveUp.CancelAfter(parsed.GetValue(timeout));
            var (verdict, ending, status) = await AwaitOutcomeAsync(bus, feed, id, giveUp.Token, cancellationToken);
            Report(output, id, verdict, ending, status);
            return ExitCode(verdict);
        }, cancellationToken));
        return command;
    }

    /// <summary>
    /// The outcome from what the client has seen: the job's ending event if one arrived, else the
    /// status. A job still running has simply not seen the cancel yet (it travels on another queue
    /// than the query).
    /// </summary>
    public static CancelVerdict Decide(object? ending, VideoJobStatus? status) => (ending, status?.State) switch
    {
        (VideoFailed { Reason: VideoFailureReason.Cancelled }, _) => CancelVerdict.Cancelled,
        (VideoFailed or VideoReady, _) => CancelVerdict.AlreadyEnded,
        (_, JobState.Cancelled) => CancelVerdict.Cancelled,
        (_, JobState.Succeeded or JobState.Failed) => CancelVerdict.AlreadyEnded,
        (_, JobState.Unknown) => CancelVerdict.Unknown,
        _ => CancelVerdict.Pending,
    };

    public static int ExitCode(CancelVerdict verdict) => verdict switch
    {
        CancelVerdict.Cancelled => ExitCodes.Ok,
        CancelVerdict.AlreadyEnded => ExitCodes.AlreadyEnded,
        CancelVerdict.Unknown => ExitCodes.Unknown,
        _ => ExitCodes.InProgress,
    };

    private static async Task<(CancelVerdict, object?, VideoJobStatus?)> AwaitOutcomeAsync(
        CliBus bus, EventFeed feed, Guid id, CancellationToken giveUp, CancellationToken cancellationToken)
    {
        object? ending = null;
        VideoJobStatus? status = null;
        while (true)
        {
            using var pause = CancellationTokenSource.CreateLinkedTokenSource(giveUp);
            pause.CancelAfter(AskEvery);
            try
            {
                // Progress of a job that is still running tells nothing; only its ending does.
                var next = await feed.Events.ReadAsync(pause.Token);
                ending = next.IsEnding ? next.Message : ending;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // A pause without an answer: ask the status below.
            }

            if (ending is null)
            {
                status = await bus.StatusAsync(id, cancellationToken);
            }

            var verdict = Decide(ending, status);
            if (verdict != CancelVerdict.Pending || giveUp.IsCancellationRequested)
            {
                return (verdict, ending, status);
            }
        }
    }

    private static void Report(CliOutput output, Guid id, CancelVerdict verdict, object? ending, VideoJobStatus? status)
    {
        var message = (ending as VideoFailed)?.Message ?? status?.Message;
        var state = ending switch
        {
            VideoReady => JobState.Succeeded,
            VideoFailed { Reason: VideoFailureReason.Cancelled } => JobState.Cancelled,
            VideoFailed => JobState.Failed,
            _ => status?.State,
        };
        if (output.Json)
        {
            output.Event("CancelOutcome", new { RequestId = id, Verdict = verdict, State = state, Message = message });
            return;
        }

        switch (verdict)
        {
            case CancelVerdict.Cancelled:
                AnsiConsole.MarkupLineInterpolated($"[yellow]Cancelled[/] {id}: {message ?? "cancelled"}");
                break;
            case CancelVerdict.AlreadyEnded:
                AnsiConsole.MarkupLineInterpolated($"{id} had already ended ({state}); the cancel changed nothing.");
                break;
            case CancelVerdict.Unknown:
                AnsiConsole.MarkupLineInterpolated($"{id} is unknown to the service; nothing to cancel.");
                break;
            default:
                AnsiConsole.MarkupLineInterpolated($"Cancel sent for {id}; the service has not confirmed it yet (state {state}). Ask again with: status {id}");
                break;
        }
    }
}
