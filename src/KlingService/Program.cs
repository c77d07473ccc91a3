using System.CommandLine;
using KlingService.Cli;
using KlingService.Contracts;
using KlingService.Demo;
using KlingService.Hosting;

var image = new Option<string?>("--image") { Description = "A PNG/JPEG file or an http(s) URL; a built-in sample when omitted." };
var prompt = new Option<string>("--prompt") { Description = "What should happen in the video.", DefaultValueFactory = _ => "A slow dolly shot across a colourful abstract landscape" };
var mode = new Option<VideoMode>("--mode") { Description = "Standard or Professional.", DefaultValueFactory = _ => VideoMode.Standard, CustomParser = ArgumentParsers.Mode };
var duration = new Option<int>("--duration") { Description = "5 or 10 seconds.", DefaultValueFactory = _ => 5, CustomParser = ArgumentParsers.WholeNumber };
var trace = new Option<bool>("--trace") { Description = "List every span of the job's trace, not only its milestones." };

var demo = new Command("demo", "Generate one video on embedded defaults and show it live.") { image, prompt, mode, duration, trace };
demo.SetAction((parsed, cancellationToken) => DemoRunner.RunAsync(
    new DemoSettings(parsed.GetValue(image), parsed.GetValue(prompt)!, parsed.GetValue(mode), parsed.GetValue(duration), parsed.GetValue(trace)), cancellationToken));

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
root.SetAction((_, cancellationToken) => ServiceRun.RunAsync(args, cancellationToken));

return await CliCommands.InvokeAsync(root, args);
