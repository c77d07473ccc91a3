using System.CommandLine;
using System.Globalization;
using KlingService.Contracts;
using Spectre.Console;

namespace KlingService.Cli;

/// <summary><c>status</c>: the GetVideoJob query, as a small table; the exit code tells the state.</summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var client = new ClientOptions();
        var requestId = new Argument<Guid>("requestId") { Description = "The RequestId of the GenerateVideo command.", CustomParser = ArgumentParsers.RequestId };
        var command = new ClientCommand("status", "Ask the service where a request stands (exit 0 Succeeded, 3 Failed, 4 Cancelled, 5 Unknown, 6 in progress).") { requestId };
        client.AddTo(command);
        command.SetAction((parsed, cancellationToken) => CliCommands.GuardAsync(async () =>
        {
            var output = client.Output(parsed);
            await using var bus = await CliBus.ConnectAsync(client.Broker(parsed), cancellationToken);
            var status = await bus.StatusAsync(parsed.GetValue(requestId), cancellationToken);
            if (output.Json)
            {
                output.Event(nameof(VideoJobStatus), status);
            }
            else
            {
                Print(status);
            }

            return ExitCodes.ForState(status.State);
        }, cancellationToken));
        return command;
    }

    /// <summary>Only the fields the service filled in: a waiting job has no task, a generating one no URL.</summary>
    public static IReadOnlyList<(string Field, string Value)> Rows(VideoJobStatus status)
    {
        var rows = new List<(string, string)> { ("Request", status.RequestId.ToString()), ("State", status.State.ToString()) };
        void Add(string field, object? value)
        {
            if (value is not null)
            {
                rows.Add((field, value switch
                {
                    DateTimeOffset time => time.ToString("u", CultureInfo.InvariantCulture),
                    _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
                }));
            }
        }

        Add("Queue position", status.QueuePosition);
        Add("Task", status.TaskId);
        Add("Provider status", status.ProviderStatus);
        Add("Progress", status.ProgressPercent is { } percent ? $"{percent}%" : null);
        // An ended job's last eta is stale: it would read as time still to wait.
        Add("Eta", status.EtaSeconds is { } eta && status.EndedAt is null ? $"{eta}s" : null);
        Add("Admitted", status.AdmittedAt);
        // Only while it can still happen: a job that started or ended no longer gives up waiting.
        Add("Start by", status.State == JobState.Waiting ? status.StartBy : null);
        Add("Submitted", status.SubmittedAt);
        Add("Ended", status.EndedAt);
        Add("Video URL", status.VideoUrl);
        Add("URL expires", status.VideoUrlExpiresAt);
        Add("Stored video", status.StoredVideoUrl);
        Add("Reason", status.Reason);
        Add("Message", status.Message);
        return rows;
    }

    private static void Print(VideoJobStatus status)
    {
        var table = new Table().HideHeaders().AddColumn("field").AddColumn("value");
        foreach (var (field, value) in Rows(status))
        {
            // A URL is never cut: it must stay copyable.
            table.AddRow(new Text(field), new Text(value) { Overflow = Overflow.Fold });
        }

        AnsiConsole.Write(table);
    }
}
