using System.Text.Json;
using KlingService.Cli;
using KlingService.Simulator;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Cli;

/// <summary>
/// The client commands of the service binary, run as processes against the service running as a
/// process on real RabbitMQ and PostgreSQL, with the simulator over HTTP: what an operator types and
/// what a script reads (exit codes and <c>--json</c> lines).
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class CliCommandTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    private TestEnvironment _environment = null!;
    private RunningSimulator _simulator = null!;
    private ServiceProcess _service = null!;
    private string _image = null!;

    public async Task InitializeAsync()
    {
        _environment = await infrastructure.CreateEnvironmentAsync();
        // A Standard 5 s clip takes about a second; a Professional 10 s clip 900 s, long enough to cancel.
        _simulator = await KlingSimulator.StartAsync(new SimulatorOptions { QueueSeconds = 0.3, ProcessingSeconds = 1, SlowerFactor = 30, Seed = 5 });
        _service = await ServiceProcess.StartAsync(_environment, _simulator.BaseAddress, _simulator.Options.ApiKey, new Dictionary<string, string>
        {
            ["Generation__FirstCheckAfter"] = "00:00:00.500",
            ["Generation__MinCheckInterval"] = "00:00:00.200",
            ["Generation__MaxCheckInterval"] = "00:00:01",
        });
        _image = Path.Combine(Path.GetTempPath(), $"kling-cli-{Guid.NewGuid():N}.png");
        await File.WriteAllBytesAsync(_image, Images.Png(320, 320));
    }

    public async Task DisposeAsync()
    {
        File.Delete(_image);
        await _service.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public async Task Submit_with_wait_exits_0_with_the_video_url_or_3_with_the_reason_and_status_tells_each_by_its_exit_code()
    {
        var ready = await RunAsync("submit", "--image", _image, "--prompt", "a paper boat on a pond", "--wait", "--json");
        var failed = await RunAsync("submit", "--image", _image, "--prompt", "this one must [fail]", "--wait", "--json");
        var readyId = ready.JsonLines[0].GetProperty("requestId").GetGuid();
        var failedId = failed.JsonLines[0].GetProperty("requestId").GetGuid();
        var readyStatus = await RunAsync("status", readyId.ToString(), "--json");
        var failedStatus = await RunAsync("status", failedId.ToString(), "--json");
        var unknownStatus = await RunAsync("status", Guid.NewGuid().ToString(), "--json");

        Assert.Equal(ExitCodes.Ok, ready.ExitCode);
        Assert.Equal("Sent", Event(ready.JsonLines[0]));
        var video = ready.JsonLines[^1];
        Assert.Equal("VideoReady", Event(video));
        Assert.Equal(readyId, video.GetProperty("requestId").GetGuid());
        Assert.StartsWith(_simulator.BaseAddress.ToString(), video.GetProperty("videoUrl").GetString(), StringComparison.Ordinal);
        // The job's story in between, in order.
        Assert.Equal("VideoGenerationSubmitted", Event(ready.JsonLines[1]));
        Assert.All(ready.JsonLines.Skip(2).SkipLast(1), line => Assert.Equal("VideoGenerationProgressed", Event(line)));
        Assert.Equal(ExitCodes.Failed, failed.ExitCode);
        Assert.Equal("VideoFailed", Event(failed.JsonLines[^1]));
        Assert.Equal("GenerationFailed", failed.JsonLines[^1].GetProperty("reason").GetString());
        Assert.Equal((ExitCodes.Ok, "Succeeded"), (readyStatus.ExitCode, State(readyStatus)));
        Assert.Equal(video.GetProperty("videoUrl").GetString(), readyStatus.JsonLines.Single().GetProperty("videoUrl").GetString());
        Assert.Equal((ExitCodes.Failed, "Failed"), (failedStatus.ExitCode, State(failedStatus)));
        Assert.Equal((ExitCodes.Unknown, "Unknown"), (unknownStatus.ExitCode, State(unknownStatus)));
        Assert.All([ready, failed, readyStatus, failedStatus, unknownStatus], run => Assert.Equal("", run.Stderr.Trim()));
        // Times keep their offset as written: "+00:00", not "\u002B00:00".
        Assert.Contains("+00:00", readyStatus.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u002B", readyStatus.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_login_a_missing_virtual_host_and_an_unreachable_broker_are_told_apart_at_once()
    {
        var broker = _environment.RabbitMq;
        var wrongPassword = new UriBuilder(broker) { Password = "not-the-password" }.Uri;
        var missingVhost = new UriBuilder(broker) { Path = "/no-such-vhost" }.Uri;
        var nobody = new UriBuilder(broker) { Port = ExternalProcess.FreePort() }.Uri;

        var refused = await StatusOnAsync(wrongPassword);
        var noVhost = await StatusOnAsync(missingVhost);
        var unreachable = await StatusOnAsync(nobody);

        Assert.All([refused, noVhost, unreachable], run => Assert.Equal(ExitCodes.BadInput, run.ExitCode));
        Assert.True(refused.Stderr.Contains("refused the login of user 'guest'", StringComparison.Ordinal), refused.Stderr);
        Assert.True(noVhost.Stderr.Contains("no virtual host 'no-such-vhost'", StringComparison.Ordinal), noVhost.Stderr);
        Assert.Contains("cannot reach RabbitMQ", unreachable.Stderr, StringComparison.Ordinal);
        Assert.All([refused, noVhost, unreachable], run => Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.DoesNotContain("not-the-password", refused.Stdout + refused.Stderr, StringComparison.Ordinal);
    }

    private static Task<CliProcess> StatusOnAsync(Uri broker) =>
        CliProcess.RunAsync(["status", Guid.NewGuid().ToString(), "--rabbitmq", broker.ToString()], timeout: TimeSpan.FromSeconds(60));

    [Fact]
    public async Task Cancel_of_a_generating_job_exits_0_and_its_status_then_exits_4()
    {
        var requestId = Guid.NewGuid();
        var sent = await RunAsync("submit", "--image", _image, "--prompt", "a long clip to cancel", "--mode", "Professional", "--duration", "10", "--request-id", requestId.ToString());
        // Generating, so the cancel meets a task that exists (the case that costs money).
        for (var giveUp = DateTime.UtcNow.AddSeconds(30); _simulator.Board.Stats().CreateCalls == 0; await Task.Delay(100))
        {
            Assert.True(DateTime.UtcNow < giveUp, "The job's task was never created.");
        }

        var cancel = await RunAsync("cancel", requestId.ToString(), "--json");
        var status = await RunAsync("status", requestId.ToString(), "--json");
        var again = await RunAsync("cancel", requestId.ToString(), "--json");

        Assert.Equal(ExitCodes.Ok, sent.ExitCode);
        Assert.Equal(requestId, sent.JsonLines.Single().GetProperty("requestId").GetGuid());
        Assert.Equal(ExitCodes.Ok, cancel.ExitCode);
        var outcome = cancel.JsonLines.Single();
        Assert.Equal(("CancelOutcome", "Cancelled"), (Event(outcome), outcome.GetProperty("verdict").GetString()));
        Assert.Contains("charged", outcome.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal((ExitCodes.Cancelled, "Cancelled"), (status.ExitCode, State(status)));
        // Cancelling twice is harmless and says so.
        Assert.Equal(ExitCodes.Ok, again.ExitCode);
    }

    [Fact]
    public async Task A_cancel_that_overtakes_its_command_is_remembered_and_the_command_then_creates_nothing()
    {
        var requestId = Guid.NewGuid();

        // The cancel is handled first, as when the generate-video queue has a backlog and the cancel queue has none.
        var cancel = await RunAsync("cancel", requestId.ToString(), "--json");
        var submit = await RunAsync("submit", "--image", _image, "--prompt", "cancelled before it arrived", "--request-id", requestId.ToString(), "--wait", "--json");
        var status = await RunAsync("status", requestId.ToString(), "--json");

        var outcome = cancel.JsonLines.Single();
        Assert.Equal((ExitCodes.Ok, "Cancelled"), (cancel.ExitCode, outcome.GetProperty("verdict").GetString()));
        Assert.Contains("before it arrived", outcome.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Cancelled, submit.ExitCode);
        Assert.Equal(("VideoFailed", "Cancelled"), (Event(submit.JsonLines[^1]), submit.JsonLines[^1].GetProperty("reason").GetString()));
        Assert.Equal((ExitCodes.Cancelled, "Cancelled"), (status.ExitCode, State(status)));
        Assert.DoesNotContain(_simulator.Board.TasksByPrompt(), group => group.Key == "cancelled before it arrived");
    }

    [Fact]
    public async Task Submit_with_wait_resending_a_cancelled_request_prints_its_cancellation_and_exits_4()
    {
        var requestId = Guid.NewGuid();
        string[] submit = ["submit", "--image", _image, "--prompt", "a long clip to cancel", "--mode", "Professional", "--duration", "10", "--request-id", requestId.ToString()];
        await RunAsync(submit);
        for (var giveUp = DateTime.UtcNow.AddSeconds(30); _simulator.Board.Stats().CreateCalls == 0; await Task.Delay(100))
        {
            Assert.True(DateTime.UtcNow < giveUp, "The job's task was never created.");
        }

        var cancel = await RunAsync("cancel", requestId.ToString(), "--json");
        // The README once said this waits until Ctrl+C: the service answers with the recorded ending.
        var again = await RunAsync([.. submit, "--wait", "--json"]);

        Assert.Equal(ExitCodes.Ok, cancel.ExitCode);
        Assert.Equal(ExitCodes.Cancelled, again.ExitCode);
        var ending = again.JsonLines[^1];
        Assert.Equal(("VideoFailed", "Cancelled"), (Event(ending), ending.GetProperty("reason").GetString()));
        Assert.Equal(requestId, ending.GetProperty("requestId").GetGuid());
        Assert.Equal(1, _simulator.Board.Stats().CreateCalls);
    }

    [Fact]
    public async Task Watch_prints_one_line_per_event_of_every_job_and_ends_with_0_on_Ctrl_C()
    {
        // The broker from the environment this time, as beside a deployment.
        await using var watch = CliProcess.Start(["watch", "--json"], new Dictionary<string, string> { ["ConnectionStrings__RabbitMq"] = _environment.RabbitMq.ToString() });
        await watch.WaitForAsync(run => run.Stderr, "Watching job events", TimeSpan.FromSeconds(60));

        var first = await RunAsync("submit", "--image", _image, "--prompt", "watched one", "--wait");
        var second = await RunAsync("submit", "--image", _image, "--prompt", "watched two [fail]", "--wait");
        var ids = new[] { first, second }.Select(run => run.JsonLines[0].GetProperty("requestId").GetGuid()).ToList();
        await watch.WaitForAsync(run => run.Stdout, "\"event\":\"VideoFailed\"", TimeSpan.FromSeconds(30));
        await watch.InterruptAsync();
        var exitCode = await watch.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ExitCodes.Ok, exitCode);
        var lines = watch.JsonLines.GroupBy(line => line.GetProperty("requestId").GetGuid()).ToDictionary(g => g.Key, g => g.Select(Event).ToList());
        Assert.Equal(ids.Order(), lines.Keys.Order());
        Assert.Equal("VideoGenerationSubmitted", lines[ids[0]][0]);
        Assert.Equal("VideoReady", lines[ids[0]][^1]);
        Assert.Equal("VideoFailed", lines[ids[1]][^1]);
        // Exactly what the submitting client saw of the same job.
        Assert.Equal(first.JsonLines.Skip(1).Select(Event), lines[ids[0]]);
    }

    private Task<CliProcess> RunAsync(params string[] arguments) =>
        CliProcess.RunAsync([.. arguments, "--rabbitmq", _environment.RabbitMq.ToString()]);

    private static string? Event(JsonElement line) => line.GetProperty("event").GetString();

    private static string? State(CliProcess run) => run.JsonLines.Single().GetProperty("state").GetString();
}
