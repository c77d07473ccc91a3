using KlingService.Simulator;

// Standalone simulator: `dotnet run --project src/KlingService.Simulator -- --urls http://0.0.0.0:8080`.
// Settings come from the Simulator section (appsettings, or environment such as Simulator__FailureRate=0.1).
var configuration = new ConfigurationBuilder()
    .AddEnvironmentVariables()
    .AddCommandLine(args)
    .Build();
var options = configuration.GetSection(SimulatorOptions.SectionName).Get<SimulatorOptions>() ?? new SimulatorOptions();
var urls = configuration["urls"] ?? configuration["ASPNETCORE_URLS"] ?? "http://127.0.0.1:5080";

var app = KlingSimulator.Build(options, ["--urls", urls]);
Console.WriteLine($"Kling simulator listening on {urls}");
await app.RunAsync();
