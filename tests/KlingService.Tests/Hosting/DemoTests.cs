using System.Text;
using KlingService.Cli;
using KlingService.Contracts;
using KlingService.Demo;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Hosting;

/// <summary>
/// The README's demo: the real host on embedded defaults, the simulator over HTTP; in-process, and
/// as a new user runs it (a process, its output piped as into a log or grep).
/// </summary>
public sealed class DemoTests
{
    [Fact]
    public async Task The_demo_generates_a_video_and_exits_zero()
    {
        var exitCode = await DemoRunner.RunAsync(new DemoSettings(null, "a paper boat on a pond", VideoMode.Standard, 5), CancellationToken.None);

        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task The_demo_exits_non_zero_when_the_generation_fails()
    {
        var exitCode = await DemoRunner.RunAsync(new DemoSettings(null, "[fail] a paper boat", VideoMode.Standard, 5), CancellationToken.None);

        Assert.NotEqual(0, exitCode);
    }

    [Fact]
    public async Task The_demo_exits_non_zero_for_an_invalid_request_without_creating_a_task()
    {
        var exitCode = await DemoRunner.RunAsync(new DemoSettings(null, "a paper boat", VideoMode.Standard, 7), CancellationToken.None);

        Assert.NotEqual(0, exitCode);
    }

    [Fact]
    public async Task A_failed_job_exits_with_the_client_commands_failed_code_and_its_reason_on_one_line()
    {
        var run = await CliProcess.RunAsync(["demo", "--prompt", "x [fail]"]);

        Assert.Equal(ExitCodes.Failed, run.ExitCode);
        // Piped output has no width to wrap at: the whole failure is one line a grep finds.
        Assert.Single(Lines(run.Stdout), line => line.StartsWith("VideoFailed (GenerationFailed) task ", StringComparison.Ordinal)
            && line.EndsWith("The provider could not generate this video (simulated failure).", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_as_the_README_says_it_saves_the_video_under_data_videos_of_the_directory_it_was_run_from()
    {
        var directory = Directory.CreateTempSubdirectory("kling-demo-").FullName;
        try
        {
            var output = new StringBuilder();
            using var process = ExternalProcess.Start(
                "dotnet",
                ["run", "--project", RepositoryFiles.PathOf("src", "KlingService"), "-c", RepositoryFiles.Configuration, "--no-build", "--", "demo"],
                new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1" },
                output: output,
                workingDirectory: directory);
            var exitCode = await ExternalProcess.WaitForExitAsync(process, TimeSpan.FromMinutes(2));

            Assert.True(exitCode == 0, $"exit {exitCode}:{Environment.NewLine}{output}");
            var saved = Assert.Single(Lines(output.ToString()), line => line.StartsWith("saved:", StringComparison.Ordinal));
            var path = saved["saved:".Length..].Trim().Split(' ')[0];
            Assert.Equal(Path.Combine(directory, "data", "videos"), Path.GetDirectoryName(path));
            Assert.True(File.Exists(path), $"{path} was printed but not saved.");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task By_default_the_trace_is_a_few_milestone_lines_that_point_to_trace_for_every_span()
    {
        var run = await CliProcess.RunAsync(["demo"]);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var trace = TraceLines(run.Stdout);
        Assert.Contains("--trace", trace[0], StringComparison.Ordinal);
        Assert.InRange(trace.Length, 2, 6);
        Assert.Contains(trace, line => line.Contains("kling.create_task", StringComparison.Ordinal));
        Assert.Contains(trace, line => line.Contains("VideoReady", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_trace_the_demo_lists_every_span_of_the_job()
    {
        var run = await CliProcess.RunAsync(["demo", "--trace"]);

        Assert.True(run.ExitCode == ExitCodes.Ok, $"exit {run.ExitCode}:{Environment.NewLine}{run.Stdout}{run.Stderr}");
        var trace = TraceLines(run.Stdout);
        // The bus's own spans too, which the default summary leaves out.
        Assert.Contains(trace, line => line.EndsWith(" generate-video send", StringComparison.Ordinal));
        Assert.Contains(trace, line => line.EndsWith(" video-job-state process", StringComparison.Ordinal));
        Assert.True(trace.Length > 20, string.Join(Environment.NewLine, trace));
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string[] TraceLines(string stdout) => [.. Lines(stdout).SkipWhile(line => !line.StartsWith("trace ", StringComparison.Ordinal))];
}
