using System.Diagnostics;
using KlingService.Contracts;
using KlingService.Demo;
using KlingService.Generation;
using KlingService.Hosting;
using KlingService.Simulator;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;

namespace KlingService.Tests.Fixtures;

/// <summary>
/// The real host, built by <see cref="KlingHost"/> as Program builds it, in this process: spans go
/// to an in-memory exporter and logs to <see cref="CapturedLogs"/>. Embedded by default (in-memory
/// bus, simulator over HTTP); pass connection strings for RabbitMQ and PostgreSQL.
/// </summary>
public sealed class EmbeddedService : IAsyncDisposable
{
    private static readonly Dictionary<string, string?> FastJobs = new()
    {
        // Always the in-process simulator, also beside a real broker and database.
        ["Kling:UseSimulator"] = "true",
        ["Simulator:QueueSeconds"] = "0.3",
        ["Simulator:ProcessingSeconds"] = "1",
        ["Generation:FirstCheckAfter"] = "00:00:00.300",
        ["Generation:MinCheckInterval"] = "00:00:00.200",
        ["Generation:MaxCheckInterval"] = "00:00:00.500",
        ["Health:Urls"] = "http://127.0.0.1:0",
        ["Logging:LogLevel:Default"] = "Information",
    };

    private readonly IAsyncDisposable? _simulator;
    private bool _stopped;

    private EmbeddedService(WebApplication app, IAsyncDisposable? simulator, List<Activity> spans, CapturedLogs logs, string videoDirectory)
    {
        App = app;
        VideoDirectory = videoDirectory;
        _simulator = simulator;
        Spans = spans;
        Logs = logs;
    }

    public WebApplication App { get; }

    /// <summary>Where the file-system store keeps this instance's videos: a directory of its own, deleted with it.</summary>
    public string VideoDirectory { get; }

    public List<Activity> Spans { get; }

    public CapturedLogs Logs { get; }

    /// <summary>The in-process simulator, when no API key was configured.</summary>
    public RunningSimulator? Simulator => _simulator as RunningSimulator;

    public IBus Bus => App.Services.GetRequiredService<IBus>();

    public static async Task<EmbeddedService> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var spans = new List<Activity>();
        var logs = new CapturedLogs();
        var configuration = new Dictionary<string, string?>(FastJobs)
        {
            ["Storage:Path"] = Directory.CreateTempSubdirectory("kling-videos-").FullName,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        var (app, simulator) = await KlingHost.BuildAsync([], configuration, builder =>
        {
            builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans));
            builder.Logging.AddProvider(logs);
        });
        await app.StartAsync();
        return new EmbeddedService(app, simulator, spans, logs, configuration["Storage:Path"]!);
    }

    /// <summary>Sends the command as a client would and waits for the job's VideoReady or VideoFailed.</summary>
    public async Task<object> RunAsync(GenerateVideo command)
    {
        var watch = new JobWatch(command.RequestId);
        var handle = Bus.ConnectReceiveEndpoint(new TemporaryEndpointDefinition(), KebabCaseEndpointNameFormatter.Instance, watch.Configure);
        await handle.Ready;
        try
        {
            var endpoint = await Bus.GetSendEndpoint(new Uri($"queue:{GenerateVideoConsumerDefinition.QueueName}"));
            await endpoint.Send(command);
            return await watch.Outcome.WaitAsync(TimeSpan.FromMinutes(1));
        }
        finally
        {
            await handle.StopAsync();
        }
    }

    /// <summary>Stops the host, so every span has ended and been exported.</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await App.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await App.DisposeAsync();
        if (_simulator is not null)
        {
            await _simulator.DisposeAsync();
        }

        if (Directory.Exists(VideoDirectory))
        {
            Directory.Delete(VideoDirectory, recursive: true);
        }
    }
}
