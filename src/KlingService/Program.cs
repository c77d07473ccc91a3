using System.CommandLine;
using KlingService.Cli;
using KlingService.Contracts;
using KlingService.Demo;
using KlingService.Hosting;
using KlingService.Persistence;

var image = new Option<string?>("--image") { Description = "A PNG/JPEG file or an http(s) URL; a built-in sample when omitted." };
var prompt = new Option<string>("--prompt") { Description = "What should happen in the video.", DefaultValueFactory = _ => "A slow dolly shot across a colourful abstract landscape" };
var mode = new Option<VideoMode>("--mode") { Description = "Standard or Professional.", DefaultValueFactory = _ => VideoMode.Standard };
var duration = new Option<int>("--duration") { Description = "5 or 10 seconds.", DefaultValueFactory = _ => 5 };

var demo = new Command("demo", "Generate one video on embedded defaults and show it live.") { image, prompt, mode, duration };
demo.SetAction((parsed, cancellationToken) => DemoRunner.RunAsync(
    new DemoSettings(parsed.GetValue(image), parsed.GetValue(prompt)!, parsed.GetValue(mode), parsed.GetValue(duration)), cancellationToken));

// For container health checks: the runtime images have no curl.
var healthUrl = new Argument<string>("url") { DefaultValueFactory = _ => "http://127.0.0.1:8081/health/ready" };
var healthcheck = new Command("healthcheck", "Exit 0 when the service at the URL reports ready.") { healthUrl };
healthcheck.SetAction(async (parsed, cancellationToken) =>
{
    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
    try
    {
        return (await http.GetAsync(parsed.GetValue(healthUrl), cancellationToken)).IsSuccessStatusCode ? 0 : 1;
    }
    catch (HttpRequestException)
    {
        return 1;
    }
});

var root = new RootCommand("KlingService: GenerateVideo commands in, VideoReady / VideoFailed events out. Without a command it runs the service (settings: appsettings.json, environment, --Section:Key=value).") { demo, healthcheck };
// submit, status, cancel, watch: a client of a running deployment, over RabbitMQ.
CliCommands.AddTo(root);
root.TreatUnmatchedTokensAsErrors = false;
root.SetAction(async (_, cancellationToken) =>
{
    try
    {
        var (app, simulator) = await KlingHost.BuildAsync(args, cancellationToken: cancellationToken);
        await using var simulatorLifetime = simulator;
        await app.RunAsync();
        return 0;
    }
    catch (StartupException e)
    {
        // One line an operator can act on, not a stack trace.
        await Console.Error.WriteLineAsync($"KlingService cannot start: {e.Message}");
        return 2;
    }
    catch (Microsoft.Extensions.Options.OptionsValidationException e)
    {
        await Console.Error.WriteLineAsync($"KlingService cannot start: {string.Join(" ", e.Failures)}");
        return 2;
    }
    catch (PostgresUnreachableException)
    {
        // Already said in one log line; a stack trace would add nothing.
        return 1;
    }
});

return await CliCommands.InvokeAsync(root, args);
