using System.Text;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Benchmarks;

/// <summary>
/// The benchmark harness in its quick mode, so it cannot rot between full runs. It starts its own
/// RabbitMQ and PostgreSQL; it shares the integration collection so it never runs beside them.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class BenchmarkSmokeTests
{
    [Fact]
    public async Task The_quick_benchmark_run_reports_every_scenario_and_the_service_meets_no_429_under_its_cap()
    {
        var harness = BenchmarkAssembly();
        Assert.True(File.Exists(harness), $"The benchmark harness was not built at {harness} (dotnet build KlingService.sln builds it).");
        var results = Path.Combine(Path.GetTempPath(), $"kling-benchmark-{Guid.NewGuid():N}.md");
        var output = new StringBuilder();

        using var process = ExternalProcess.Start("dotnet", [harness, "--quick", "--out", results], output: output);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == 0, $"The harness failed:{Environment.NewLine}{output}");
        var rows = (await File.ReadAllLinesAsync(results)).Where(l => l.StartsWith("| ", StringComparison.Ordinal)).ToList();
        Assert.All(["| 1 pipeline", "| 2 polling", "| 3 slots", "| 4 scale"], scenario => Assert.Contains(rows, r => r.StartsWith(scenario, StringComparison.Ordinal)));
        var refusals = Assert.Single(rows, r => r.Contains("429s seen", StringComparison.Ordinal)).Split('|', StringSplitOptions.TrimEntries);
        Assert.StartsWith("0 /", refusals[3], StringComparison.Ordinal);
    }

    // tests/KlingService.Tests/bin/<configuration>/<tfm>/ → tests/KlingService.Benchmarks/bin/<configuration>/<tfm>/
    private static string BenchmarkAssembly()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = here.Name;
        var configuration = here.Parent!.Name;
        var tests = here.Parent.Parent!.Parent!.Parent!.FullName;
        return Path.Combine(tests, "KlingService.Benchmarks", "bin", configuration, framework, "KlingService.Benchmarks.dll");
    }
}
