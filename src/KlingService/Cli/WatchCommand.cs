using System.CommandLine;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace KlingService.Cli;

/// <summary><c>watch</c>: a live table of the jobs seen on the bus, until Ctrl+C (or <c>--for</c>).</summary>
public static class WatchCommand
{
    private const int VisibleRows = 40;
    private static readonly TimeSpan Redraw = TimeSpan.FromSeconds(1);

    public static Command Create()
    {
        var client = new ClientOptions();
        var duration = new Option<TimeSpan?>("--for")
        {
            Description = "Stop after this long (e.g. 10m, 2h or 00:10:00); default: until Ctrl+C.", HelpName = "duration", CustomParser = ArgumentParsers.OptionalDuration,
        };
        var keep = new Option<int>("--keep")
        {
            Description = $"Jobs kept in the table, the most recent (default {JobBoard.DefaultCapacity}).",
            DefaultValueFactory = _ => JobBoard.DefaultCapacity,
            CustomParser = ArgumentParsers.WholeNumber,
        };
        keep.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError("--keep: expected a whole number of 1 or more.");
            }
        });
        var command = new ClientCommand("watch", "Show the jobs seen on the bus (state, progress, eta, age), live, until Ctrl+C.") { duration, keep };
        client.AddTo(command);
        command.SetAction((parsed, cancellationToken) => CliCommands.GuardAsync(async () =>
        {
            var output = client.Output(parsed);
            var broker = client.Broker(parsed);
            await using var bus = await CliBus.ConnectAsync(broker, cancellationToken);
            await using var feed = await bus.SubscribeAsync(_ => true, cancellationToken);
            CliOutput.Note($"Watching job events on {BrokerAddress.Describe(broker)}; Ctrl+C to stop.");

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (parsed.GetValue(duration) is { } limit)
            {
                stop.CancelAfter(limit);
            }

            try
            {
                await (output.Json ? PrintLinesAsync(feed, output, stop.Token) : ShowTableAsync(feed, new JobBoard(parsed.GetValue(keep)), stop.Token));
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Ctrl+C or --for: the normal end of watching.
            }

            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static async Task PrintLinesAsync(EventFeed feed, CliOutput output, CancellationToken cancellationToken)
    {
        await foreach (var seen in feed.Events.ReadAllAsync(cancellationToken))
        {
            output.Event(seen.Name, seen.Message);
        }
    }

    private static async Task ShowTableAsync(EventFeed feed, JobBoard board, CancellationToken cancellationToken)
    {
        await AnsiConsole.Live(Render(board)).StartAsync(async live =>
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // Redrawn on every event, and every second for the ages.
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                tick.CancelAfter(Redraw);
                try
                {
                    while (true)
                    {
                        board.Apply(await feed.Events.ReadAsync(tick.Token));
                        live.UpdateTarget(Render(board));
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                }

                live.UpdateTarget(Render(board));
            }
        });
        cancellationToken.ThrowIfCancellationRequested();
    }

    private static IRenderable Render(JobBoard board)
    {
        var now = DateTimeOffset.UtcNow;
        // Ids stay whole on one line: they are what `status` and `cancel` take.
        var table = new Table()
            .AddColumn(new TableColumn("Request").NoWrap()).AddColumn(new TableColumn("Task").NoWrap()).AddColumn("State").AddColumn("Provider")
            .AddColumn(new TableColumn("Progress").RightAligned()).AddColumn(new TableColumn("Eta").RightAligned()).AddColumn(new TableColumn("Age").RightAligned());
        foreach (var row in board.Rows(VisibleRows))
        {
            var state = row.State switch
            {
                "Succeeded" => "[green]Succeeded[/]",
                "Generating" => "Generating",
                _ => $"[red]{Markup.Escape(row.State)}[/]",
            };
            table.AddRow(
                row.RequestId.ToString(),
                Markup.Escape(row.TaskId ?? ""),
                state,
                Markup.Escape(row.ProviderStatus ?? ""),
                row.ProgressPercent is { } percent ? $"{percent}%" : "",
                row.EtaSeconds is { } eta ? $"{eta}s" : "",
                $"{row.Age(now).TotalSeconds:0}s");
        }

        table.Caption($"{board.Count} job(s) seen; Ctrl+C to stop");
        return table;
    }
}
