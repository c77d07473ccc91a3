using System.Diagnostics;
using System.Text;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Tooling;

/// <summary><c>tests/run.sh</c>, the test command the README and CI give, as a new user first tries it.</summary>
public sealed class RunScriptTests
{
    [Fact]
    public async Task Help_prints_the_options_including_filter_and_exits_0_without_building_or_installing()
    {
        var stubs = Directory.CreateTempSubdirectory("kling-run-sh-").FullName;
        try
        {
            // Whatever run.sh would build, test or install with is a stub that leaves a mark.
            var calls = Path.Combine(stubs, "calls");
            foreach (var program in new[] { "dotnet", "apt-get", "sudo" })
            {
                var stub = Path.Combine(stubs, program);
                await File.WriteAllTextAsync(stub, $"#!/bin/sh\necho \"{program} $*\" >> '{calls}'\n");
                await ExternalProcess.RunAsync("chmod", ["+x", stub]);
            }

            var output = new StringBuilder();
            var clock = Stopwatch.StartNew();
            using var process = ExternalProcess.Start(
                "bash",
                [RepositoryFiles.PathOf("tests", "run.sh"), "--help"],
                new Dictionary<string, string> { ["PATH"] = $"{stubs}:{Environment.GetEnvironmentVariable("PATH")}" },
                output: output);
            var exitCode = await ExternalProcess.WaitForExitAsync(process, TimeSpan.FromSeconds(30));
            clock.Stop();

            Assert.True(exitCode == 0, $"exit {exitCode}:{Environment.NewLine}{output}");
            Assert.Contains("Usage: tests/run.sh", output.ToString(), StringComparison.Ordinal);
            Assert.Contains("--filter <expression>", output.ToString(), StringComparison.Ordinal);
            Assert.False(File.Exists(calls), $"--help ran: {(File.Exists(calls) ? await File.ReadAllTextAsync(calls) : "")}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"--help took {clock.Elapsed}.");
        }
        finally
        {
            Directory.Delete(stubs, recursive: true);
        }
    }
}
