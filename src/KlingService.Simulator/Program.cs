using System.Net;
using System.Runtime.InteropServices;
using KlingService.Simulator;

// Standalone simulator: `dotnet run --project src/KlingService.Simulator -- --urls http://0.0.0.0:8080`.
// Settings come from the Simulator section (appsettings, or environment such as Simulator__FailureRate=0.1,
// or Simulator__Connections=Http10CloseAfterAnswer for a front that closes each connection after its answer).
var configuration = new ConfigurationBuilder()
    .AddEnvironmentVariables()
    .AddCommandLine(args)
    .Build();
var options = configuration.GetSection(SimulatorOptions.SectionName).Get<SimulatorOptions>() ?? new SimulatorOptions();
var urls = configuration["urls"] ?? configuration["ASPNETCORE_URLS"] ?? "http://127.0.0.1:5080";

if (options.Connections == ConnectionMode.KeepAlive)
{
    var app = KlingSimulator.Build(options, ["--urls", urls]);
    Console.WriteLine($"Kling simulator listening on {urls}");
    await app.RunAsync();
    return;
}

// The connection front listens on the first address; the simulator itself sits behind it on loopback.
var first = new Uri(urls.Split(';')[0].Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal));
var host = first.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(first.Host.Trim('[', ']'));
await using var simulator = await KlingSimulator.StartAsync(options, listen: new IPEndPoint(host, first.Port));
Console.WriteLine($"Kling simulator listening on {first} ({options.Connections})");
var stop = new TaskCompletionSource();
using var onCancel = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.TrySetResult(); });
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.TrySetResult(); });
await stop.Task;
