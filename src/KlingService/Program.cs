using System.CommandLine;
using KlingService.Contracts;
using KlingService.Demo;
using KlingService.Hosting;

var image = new Option<string?>("--image") { Description = "A PNG/JPEG file or an http(s) URL; a built-in sample when omitted." };
var prompt = new Option<string>("--prompt") { Description = "What should happen in the video.", DefaultValueFactory = _ => "A slow dolly shot across a colourful abstract landscape" };
var mode = new Option<VideoMode>("--mode") { Description = "Standard or Professional.", DefaultValueFactory = _ => VideoMode.Standard };
var duration = new Option<int>("--duration") { Description = "5 or 10 seconds.", DefaultValueFactory = _ => 5 };

var demo = new Command("demo", "Generate one video on embedded defaults and show it live.") { image, prompt, mode, duration };
demo.SetAction((parsed, cancellationToken) => DemoRunner.RunAsync(
    new DemoSettings(parsed.GetValue(image), parsed.GetValue(prompt)!, parsed.GetValue(mode), parsed.GetValue(duration)), cancellationToken));

var root = new RootCommand("KlingService: GenerateVideo commands in, VideoReady / VideoFailed events out.") { demo };
root.TreatUnmatchedTokensAsErrors = false;
root.SetAction(async (_, cancellationToken) =>
{
    var (app, simulator) = await KlingHost.BuildAsync(args, cancellationToken: cancellationToken);
    await using var simulatorLifetime = simulator;
    await app.RunAsync();
    return 0;
});

return await root.Parse(args).InvokeAsync();
