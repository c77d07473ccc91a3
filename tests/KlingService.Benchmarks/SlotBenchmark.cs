using System.Diagnostics;
using System.Globalization;
using KlingService.Contracts;
using KlingService.Simulator;
using KlingService.Tests.Fixtures;

namespace KlingService.Benchmarks;

/// <summary>
/// 3. Slot utilisation: a burst of jobs against an account capped at 10, with scaled durations
/// (about a second per task). The service keeps its own count of the account's slots; the baseline
/// is the same service told of no cap, so it learns of the cap only from the provider's 429s and
/// waits their Retry-After, as a client without slot accounting does.
/// </summary>
public static class SlotBenchmark
{
    private const int Cap = 10;

    public static async Task RunAsync(RealInfrastructure infrastructure, BenchmarkSettings settings, ResultTable table)
    {
        var jobs = settings.Size(full: 1_000, quick: 100);
        var service = await RunOnceAsync(infrastructure, jobs, ownCap: Cap);
        Console.WriteLine($"[slots] with the cap: {service}");
        var baseline = await RunOnceAsync(infrastructure, jobs, ownCap: 100_000);
        Console.WriteLine($"[slots] 429-driven: {baseline}");

        var scenario = $"3 slots ({jobs} jobs, cap {Cap})";
        table.Add(scenario, "provider slot-time busy while a backlog exists", $"{ResultTable.F(service.BusyShare * 100)} %",
            $"{ResultTable.F(baseline.BusyShare * 100)} % (429-driven)", $"{ResultTable.F((service.BusyShare - baseline.BusyShare) * 100)} points");
        table.Add(scenario, "gap slot freed by the service → next create, p50 / p95 (ms)", $"{Ms(service.ReleaseGapP50)} / {Ms(service.ReleaseGapP95)}",
            $"{Ms(baseline.ReleaseGapP50)} / {Ms(baseline.ReleaseGapP95)}", "");
        table.Add(scenario, "gap provider finished → next create, p50 / p95 (ms)", $"{Ms(service.FinishGapP50)} / {Ms(service.FinishGapP95)}",
            $"{Ms(baseline.FinishGapP50)} / {Ms(baseline.FinishGapP95)}", "includes detecting the finish");
        table.Add(scenario, "429s seen / wall time", $"{service.Refusals} / {ResultTable.F(service.Elapsed.TotalSeconds)} s",
            $"{baseline.Refusals} / {ResultTable.F(baseline.Elapsed.TotalSeconds)} s", $"{ResultTable.F(baseline.Elapsed / service.Elapsed, 2)}× faster");
    }

    private static string Ms(double seconds) => ResultTable.F(seconds * 1000, 0);

    private static async Task<SlotRun> RunOnceAsync(RealInfrastructure infrastructure, int jobs, int ownCap)
    {
        var environment = await infrastructure.CreateEnvironmentAsync();
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions
        {
            QueueSeconds = 0.2, ProcessingSeconds = 0.6, SlowerFactor = 1, Jitter = 0.5, MaxConcurrentTasks = Cap, Seed = 3,
        });
        await using var service = await ServiceProcess.StartAsync(environment, simulator.BaseAddress, simulator.Options.ApiKey, new Dictionary<string, string>
        {
            ["Kling__MaxConcurrentTasks"] = ownCap.ToString(CultureInfo.InvariantCulture),
            ["Generation__FirstCheckAfter"] = "00:00:00.300",
            ["Generation__MinCheckInterval"] = "00:00:00.100",
            ["Generation__MaxCheckInterval"] = "00:00:01",
            ["Generation__EtaSlack"] = "00:00:00.050",
            ["Generation__CreateRetryMinInterval"] = "00:00:00.200",
            ["Generation__CreateRetryMaxInterval"] = "00:00:02",
            ["Logging__LogLevel__KlingService"] = "Warning",
        });
        await using var client = await BusClient.StartAsync(environment.RabbitMq);

        var watch = Stopwatch.StartNew();
        await client.SendAsync(Enumerable.Range(0, jobs)
            .Select(i => new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), $"job {i}", VideoMode.Standard, 5)));
        var ended = await client.WaitForTerminalAsync(jobs, TimeSpan.FromMinutes(10));
        var elapsed = watch.Elapsed;
        if (ended != jobs || client.Terminal.Any(e => e is not VideoReady))
        {
            throw new InvalidOperationException($"Slot run: {ended} of {jobs} jobs ended, not all ready.");
        }

        var tasks = simulator.Board.Tasks();
        var stats = simulator.Board.Stats();
        var creates = tasks.Select(t => t.CreatedAt).Order().ToList();
        var finishes = tasks.Select(t => t.FinishesAt).Order().ToList();
        var releases = client.EndedAt.Order().ToList();
        var windowStart = creates[0];
        var windowEnd = creates[^1];
        var busy = tasks.Sum(t => Overlap(t.CreatedAt, t.FinishesAt, windowStart, windowEnd));
        var releaseGaps = Gaps(creates, releases);
        var finishGaps = Gaps(creates, finishes);
        return new SlotRun(
            busy / (Cap * Math.Max(0.001, (windowEnd - windowStart).TotalSeconds)),
            ResultTable.Percentile(releaseGaps, 50), ResultTable.Percentile(releaseGaps, 95),
            ResultTable.Percentile(finishGaps, 50), ResultTable.Percentile(finishGaps, 95),
            stats.RejectedForConcurrency + stats.ThrottledInBursts,
            elapsed);
    }

    /// <summary>The k-th create after the first <see cref="Cap"/> took the slot of the (k − cap)-th release.</summary>
    private static List<double> Gaps(List<DateTimeOffset> creates, List<DateTimeOffset> releases) =>
        Enumerable.Range(Cap, Math.Max(0, Math.Min(creates.Count, releases.Count + Cap) - Cap))
            .Select(k => Math.Max(0, (creates[k] - releases[k - Cap]).TotalSeconds))
            .ToList();

    private static double Overlap(DateTimeOffset start, DateTimeOffset end, DateTimeOffset windowStart, DateTimeOffset windowEnd)
    {
        var from = start > windowStart ? start : windowStart;
        var to = end < windowEnd ? end : windowEnd;
        return to > from ? (to - from).TotalSeconds : 0;
    }

    private sealed record SlotRun(
        double BusyShare, double ReleaseGapP50, double ReleaseGapP95, double FinishGapP50, double FinishGapP95, long Refusals, TimeSpan Elapsed)
    {
        public override string ToString() =>
            $"busy {BusyShare:P1}, release→create p50 {ReleaseGapP50 * 1000:F0} ms p95 {ReleaseGapP95 * 1000:F0} ms, " +
            $"finish→create p50 {FinishGapP50 * 1000:F0} ms p95 {FinishGapP95 * 1000:F0} ms, 429s {Refusals}, {Elapsed.TotalSeconds:F1} s";
    }
}
