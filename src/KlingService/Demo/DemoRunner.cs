using System.Diagnostics;
using KlingService.Cli;
using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Hosting;
using MassTransit;
using OpenTelemetry.Trace;
using Spectre.Console;

namespace KlingService.Demo;

/// <summary>Runs one job through the real service on embedded defaults and shows it live.</summary>
public static class DemoRunner
{
    // Short simulated generations and tight checks, so the demo ends in seconds rather than minutes.
    private static readonly Dictionary<string, string?> DemoDefaults = new()
    {
        ["Simulator:QueueSeconds"] = "1",
        ["Simulator:ProcessingSeconds"] = "4",
        ["Generation:FirstCheckAfter"] = "00:00:00.500",
        ["Generation:MinCheckInterval"] = "00:00:00.250",
        ["Generation:MaxCheckInterval"] = "00:00:01",
        ["Health:Urls"] = "http://127.0.0.1:0",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    public static async Task<int> RunAsync(DemoSettings settings, CancellationToken cancellationToken)
    {
        var command = new GenerateVideo(
            Guid.NewGuid(), await LoadImageAsync(settings.Image, cancellationToken), settings.Prompt, settings.Mode, settings.DurationSeconds);

        var console = CreateConsole();
        var spans = new List<Activity>();
        var (app, simulator) = await KlingHost.BuildAsync(
            [], DemoDefaults, builder => builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)), cancellationToken);
        await using var simulatorLifetime = simulator;
        await app.StartAsync(cancellationToken);
        try
        {
            var watch = new JobWatch(command.RequestId);
            var bus = app.Services.GetRequiredService<IBus>();
            var handle = bus.ConnectReceiveEndpoint(new TemporaryEndpointDefinition(), KebabCaseEndpointNameFormatter.Instance, watch.Configure);
            await handle.Ready.WaitAsync(cancellationToken);

            var endpoint = await bus.GetSendEndpoint(new Uri($"queue:{GenerateVideoConsumerDefinition.QueueName}"));
            await endpoint.Send(command, cancellationToken);
            console.MarkupLineInterpolated($"Sent [bold]GenerateVideo[/] {command.RequestId} ({command.Mode}, {command.DurationSeconds}s)");

            var outcome = await ShowProgressAsync(console, watch, cancellationToken);
            await handle.StopAsync(cancellationToken);
            var exitCode = Report(console, outcome);
            // Spans are exported as they end; the bus's last ones end with the stop below.
            await app.StopAsync(CancellationToken.None);
            DemoTraceSummary.Print(spans, command.RequestId, settings.Trace);
            return exitCode;
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    /// <summary>
    /// Spectre.Console cannot measure a pipe and assumes 80 columns, which broke a failure's message
    /// over two lines in a log or for grep; piped, nothing reads the width, so no line is wrapped.
    /// </summary>
    private static IAnsiConsole CreateConsole()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings());
        if (Console.IsOutputRedirected)
        {
            console.Profile.Width = 4096;
        }

        return console;
    }

    private static async Task<object> ShowProgressAsync(IAnsiConsole console, JobWatch watch, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async progress =>
            {
                var bar = progress.AddTask("Waiting for Kling", maxValue: 100);
                while (!watch.Outcome.IsCompleted)
                {
                    if (watch.Latest is { } latest)
                    {
                        bar.Description = $"{latest.Status.Replace("TASK_STATUS_", "", StringComparison.Ordinal)} {latest.TaskId}";
                        bar.Value = latest.ProgressPercent ?? bar.Value;
                    }

                    await Task.WhenAny(watch.Outcome, Task.Delay(100, timeout.Token));
                }

                bar.Value = watch.Outcome.Result is VideoReady ? 100 : bar.Value;
                bar.StopTask();
            });
        return await watch.Outcome;
    }

    private static int Report(IAnsiConsole console, object outcome)
    {
        switch (outcome)
        {
            case VideoReady ready:
                console.MarkupLineInterpolated($"[green]VideoReady[/] task {ready.TaskId}");
                // Plain writes: a URL wrapped at the console's width cannot be copied.
                Console.WriteLine($"  url:     {ready.VideoUrl}");
                Console.WriteLine($"  expires: {ready.VideoUrlExpiresAt:u}");
                Console.WriteLine($"  type:    {ready.VideoType}, took {ready.TimeTaken.TotalSeconds:F1}s");
                if (ready.StoredVideoUrl is { } stored)
                {
                    // A file:// URI is the saved file: print it as a path a new user can open.
                    Console.WriteLine($"  saved:   {(Uri.TryCreate(stored, UriKind.Absolute, out var uri) && uri.IsFile ? uri.LocalPath : stored)} ({ready.SizeBytes} bytes, sha256 {ready.Sha256})");
                }

                return ExitCodes.Ok;
            case VideoFailed failed:
                console.MarkupLineInterpolated($"[red]VideoFailed[/] ({failed.Reason}) task {failed.TaskId ?? "none"}: {failed.Message}");
                // The client commands' codes, so a script can tell a refused request from a failed generation.
                return failed.Reason == VideoFailureReason.InvalidRequest ? ExitCodes.BadInput : ExitCodes.ForFailure(failed);
            default:
                return ExitCodes.Error;
        }
    }

    private static async Task<string> LoadImageAsync(string? image, CancellationToken cancellationToken)
    {
        if (image is null)
        {
            await using var sample = typeof(DemoRunner).Assembly.GetManifestResourceStream("sample.png")!;
            using var buffer = new MemoryStream();
            await sample.CopyToAsync(buffer, cancellationToken);
            return "data:image/png;base64," + Convert.ToBase64String(buffer.ToArray());
        }

        if (File.Exists(image))
        {
            var kind = Path.GetExtension(image).Equals(".png", StringComparison.OrdinalIgnoreCase) ? "png" : "jpeg";
            return $"data:image/{kind};base64," + Convert.ToBase64String(await File.ReadAllBytesAsync(image, cancellationToken));
        }

        return image;
    }
}
