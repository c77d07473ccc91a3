namespace KlingService.Benchmarks;

/// <summary>
/// Command line: <c>--quick</c> runs every scenario small (a CI smoke run), <c>--out</c> names the
/// results file, <c>--only</c> picks scenarios (pipeline, polling, slots, long-slots (only the realistic-length slot run), scale, status; comma-separated).
/// </summary>
public sealed record BenchmarkSettings(bool Quick, string OutputFile, IReadOnlySet<string> Only)
{
    public static BenchmarkSettings Parse(string[] args)
    {
        var quick = args.Contains("--quick");
        var outIndex = Array.IndexOf(args, "--out");
        var output = outIndex >= 0 && outIndex + 1 < args.Length ? args[outIndex + 1] : "benchmark-results.md";
        var onlyIndex = Array.IndexOf(args, "--only");
        var only = onlyIndex >= 0 && onlyIndex + 1 < args.Length
            ? args[onlyIndex + 1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.OrdinalIgnoreCase)
            : [];
        return new BenchmarkSettings(quick, output, only);
    }

    public bool Runs(string scenario) => Only.Count == 0 || Only.Contains(scenario);

    /// <summary>The full size, or the quick one.</summary>
    public int Size(int full, int quick) => Quick ? quick : full;
}
