using KlingService.Cli;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Cli;

/// <summary>What the binary says before it talks to any service: help, bad input, an unreachable broker.</summary>
public sealed class CliUsageTests
{
    [Fact]
    public async Task Help_lists_every_command_and_each_command_s_options()
    {
        var root = await CliProcess.RunAsync(["--help"]);
        var submit = await CliProcess.RunAsync(["submit", "--help"]);

        Assert.Equal((0, 0), (root.ExitCode, submit.ExitCode));
        Assert.All(["demo", "healthcheck", "submit", "status <requestId>", "cancel <requestId>", "watch"], command =>
            Assert.Contains($"  {command} ", root.Stdout, StringComparison.Ordinal));
        Assert.All(["--image", "--prompt", "--mode", "--duration", "--request-id", "--wait", "--rabbitmq", "--json"], option =>
            Assert.Contains(option, submit.Stdout, StringComparison.Ordinal));
    }

    public static TheoryData<string[], string> BadInput() => new()
    {
        { ["status", "not-a-guid", "--rabbitmq", "amqp://localhost/"], "not-a-guid" },
        { ["submit", "--prompt", "no image", "--rabbitmq", "amqp://localhost/"], "--image" },
        { ["submit", "--image", "/nonexistent/frame.png", "--prompt", "x", "--rabbitmq", "amqp://localhost/"], "--image" },
        { ["submit", "--image", "https://example.com/a.png", "--prompt", "x", "--duration", "7", "--rabbitmq", "amqp://localhost/"], "DurationSeconds" },
        { ["submit", "--image", "https://example.com/a.png", "--prompt", " ", "--rabbitmq", "amqp://localhost/"], "Prompt" },
        { ["watch", "--rabbitmq", "http://localhost:15672/"], "amqp://" },
        // A typo must never send a job, nor a job other than the one meant: unknown options and stray words are refused.
        { ["submit", "--image", "https://example.com/a.png", "--prompt", "x", "--duraton", "10", "--rabbitmq", "amqp://localhost/"], "--duraton" },
        { ["submit", "--image", "https://example.com/a.png", "--prompt", "x", "--wiat", "--rabbitmq", "amqp://localhost/"], "--wiat" },
        { ["watch", "--fro", "00:00:02", "--rabbitmq", "amqp://localhost/"], "--fro" },
        { ["status", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "--jsn", "--rabbitmq", "amqp://localhost/"], "--jsn" },
        { ["status", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "again", "--rabbitmq", "amqp://localhost/"], "'again'" },
        { ["cancel", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "--timout", "5s", "--rabbitmq", "amqp://localhost/"], "--timout" },
        { ["demo", "--promt", "x"], "--promt" },
        // Parse errors name the option and the form it takes.
        { ["submit", "--image", "https://example.com/a.png", "--prompt", "x", "--request-id", "abc", "--rabbitmq", "amqp://localhost/"], "--request-id: expected a request id" },
        { ["submit", "--image", "https://example.com/a.png", "--prompt", "x", "--mode", "Fast", "--rabbitmq", "amqp://localhost/"], "--mode: expected Standard or Professional" },
        { ["watch", "--for", "-1s", "--rabbitmq", "amqp://localhost/"], "--for: expected a duration" },
        { ["watch", "--for", "60d", "--rabbitmq", "amqp://localhost/"], "--for: expected a duration" },
        { ["cancel", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "--timeout", "-1s", "--rabbitmq", "amqp://localhost/"], "--timeout: expected a duration" },
        // A bare number would otherwise be read as days.
        { ["cancel", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "--timeout", "5", "--rabbitmq", "amqp://localhost/"], "--timeout: expected a duration" },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public async Task Bad_input_is_one_line_on_stderr_naming_the_problem_and_exit_2(string[] arguments, string named)
    {
        // Nothing listens at localhost's AMQP port in most runs: each case must be refused before connecting.
        var run = await CliProcess.RunAsync(arguments, timeout: TimeSpan.FromSeconds(30));

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains(named, Assert.Single(Lines(run.Stderr)), StringComparison.Ordinal);
        Assert.DoesNotContain("System.", run.Stderr, StringComparison.Ordinal);
        Assert.Equal("", run.Stdout.Trim());
    }

    [Fact]
    public async Task An_unreachable_broker_is_one_line_naming_it_without_its_password_and_exit_2()
    {
        var port = ExternalProcess.FreePort();

        var run = await CliProcess.RunAsync(["status", Guid.NewGuid().ToString(), "--rabbitmq", $"amqp://guest:secret-pw@127.0.0.1:{port}/"]);

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains($"cannot reach RabbitMQ at 127.0.0.1:{port}/", Assert.Single(Lines(run.Stderr)), StringComparison.Ordinal);
        Assert.DoesNotContain("secret-pw", run.Stdout + run.Stderr, StringComparison.Ordinal);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
