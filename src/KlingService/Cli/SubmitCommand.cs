using System.CommandLine;
using KlingService.Contracts;
using KlingService.Generation;
using Spectre.Console;

namespace KlingService.Cli;

/// <summary><c>submit</c>: sends GenerateVideo, prints the RequestId, and with <c>--wait</c> follows the job to its end.</summary>
public static class SubmitCommand
{
    public static Command Create()
    {
        var client = new ClientOptions();
        var image = new Option<string>("--image") { Description = "A PNG/JPEG file (sent as base64) or an http(s) URL.", Required = true, HelpName = "file|url" };
        var prompt = new Option<string>("--prompt") { Description = "What should happen in the video.", Required = true };
        var mode = new Option<VideoMode>("--mode") { Description = "Standard or Professional.", DefaultValueFactory = _ => VideoMode.Standard, CustomParser = ArgumentParsers.Mode };
        var duration = new Option<int>("--duration") { Description = "5 or 10 seconds.", DefaultValueFactory = _ => 5, CustomParser = ArgumentParsers.WholeNumber };
        var requestId = new Option<Guid?>("--request-id") { Description = "Your idempotency key; a new one when omitted. Resending with the same id creates nothing new.", CustomParser = ArgumentParsers.OptionalRequestId };
        var startWithin = new Option<TimeSpan?>("--start-within")
        {
            Description = "Give up, with nothing created, if no slot is free within this long (e.g. 30m); sent as StartBy.", HelpName = "duration",
            CustomParser = ArgumentParsers.OptionalDuration,
        };
        var wait = new Option<bool>("--wait") { Description = "Follow the job until VideoReady (exit 0) or VideoFailed (exit 3, 4 if cancelled)." };

        var command = new ClientCommand("submit", "Send a GenerateVideo command to a running deployment.") { image, prompt, mode, duration, requestId, startWithin, wait };
        client.AddTo(command);
        command.SetAction((parsed, cancellationToken) => CliCommands.GuardAsync(async () =>
        {
            var output = client.Output(parsed);
            var broker = client.Broker(parsed);
            var generate = new GenerateVideo(
                parsed.GetValue(requestId) ?? Guid.NewGuid(),
                await ImageInput.LoadAsync(parsed.GetValue(image)!, cancellationToken),
                parsed.GetValue(prompt)!,
                parsed.GetValue(mode),
                parsed.GetValue(duration),
                StartBy: DateTimeOffset.UtcNow + parsed.GetValue(startWithin));
            // The service's own rules: a command it would refuse is not sent.
            if (GenerateVideoValidator.FindProblem(generate) is { } problem)
            {
                throw new CliException(problem);
            }

            await using var bus = await CliBus.ConnectAsync(broker, cancellationToken);
            // Subscribed before sending, so not even a fast job's first event is missed.
            await using var feed = parsed.GetValue(wait) ? await bus.SubscribeAsync(id => id == generate.RequestId, cancellationToken) : null;
            await bus.SendAsync(generate, cancellationToken);
            if (output.Json)
            {
                output.Event("Sent", new { generate.RequestId, generate.Mode, generate.DurationSeconds });
            }
            else
            {
                AnsiConsole.MarkupLineInterpolated($"Sent [bold]GenerateVideo[/] {generate.RequestId} ({generate.Mode}, {generate.DurationSeconds}s)");
            }

            return feed is null ? ExitCodes.Ok : await FollowAsync(feed, generate.RequestId, output, cancellationToken);
        }, cancellationToken));
        return command;
    }

    private static async Task<int> FollowAsync(EventFeed feed, Guid requestId, CliOutput output, CancellationToken cancellationToken)
    {
        try
        {
            var ending = output.Json ? await PrintLinesAsync(feed, output, cancellationToken) : await ShowProgressAsync(feed, cancellationToken);
            return ending.Message switch
            {
                VideoReady ready => Ready(ready, output),
                VideoFailed failed => Failed(failed, output),
                _ => ExitCodes.Error,
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            CliOutput.Note($"Stopped following; the job goes on. Ask with: status {requestId}");
            return ExitCodes.Interrupted;
        }
    }

    private static async Task<JobEvent> PrintLinesAsync(EventFeed feed, CliOutput output, CancellationToken cancellationToken)
    {
        while (true)
        {
            var next = await feed.Events.ReadAsync(cancellationToken);
            if (next.IsEnding)
            {
                return next;
            }

            output.Event(next.Name, next.Message);
        }
    }

    private static async Task<JobEvent> ShowProgressAsync(EventFeed feed, CancellationToken cancellationToken)
    {
        JobEvent? ending = null;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async progress =>
            {
                var bar = progress.AddTask("Waiting for a slot", maxValue: 100);
                while (ending is null)
                {
                    var next = await feed.Events.ReadAsync(cancellationToken);
                    switch (next.Message)
                    {
                        case VideoGenerationSubmitted submitted:
                            bar.Description = $"Submitted {Markup.Escape(submitted.TaskId)}";
                            break;
                        case VideoGenerationProgressed progressed:
                            bar.Description = Markup.Escape($"{JobBoard.ShortStatus(progressed.Status)} {progressed.TaskId}{(progressed.EtaSeconds is { } eta ? $", eta {eta}s" : "")}");
                            bar.Value = progressed.ProgressPercent ?? bar.Value;
                            break;
                        case VideoReady:
                            bar.Value = 100;
                            ending = next;
                            break;
                        default:
                            ending = next;
                            break;
                    }
                }

                bar.StopTask();
            });
        return ending!;
    }

    private static int Ready(VideoReady ready, CliOutput output)
    {
        if (output.Json)
        {
            output.Event(nameof(VideoReady), ready);
            return ExitCodes.Ok;
        }

        AnsiConsole.MarkupLineInterpolated($"[green]VideoReady[/] task {ready.TaskId}, took {ready.TimeTaken.TotalSeconds:F1}s");
        // Plain writes: a URL wrapped at the console's width cannot be copied.
        Console.WriteLine($"  url:     {ready.VideoUrl}");
        Console.WriteLine($"  expires: {ready.VideoUrlExpiresAt:u}");
        if (ready.StoredVideoUrl is { } stored)
        {
            Console.WriteLine($"  stored:  {stored} ({ready.SizeBytes} bytes, sha256 {ready.Sha256})");
        }

        return ExitCodes.Ok;
    }

    private static int Failed(VideoFailed failed, CliOutput output)
    {
        if (output.Json)
        {
            output.Event(nameof(VideoFailed), failed);
        }
        else
        {
            AnsiConsole.MarkupLineInterpolated($"[red]VideoFailed[/] ({failed.Reason}) task {failed.TaskId ?? "none"}: {failed.Message}");
        }

        return ExitCodes.ForFailure(failed);
    }
}
