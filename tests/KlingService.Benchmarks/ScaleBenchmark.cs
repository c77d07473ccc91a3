using System.Diagnostics;
using System.Globalization;
using KlingService.Contracts;
using KlingService.Persistence;
using KlingService.Simulator;
using KlingService.Tests.Fixtures;
using Npgsql;

namespace KlingService.Benchmarks;

/// <summary>
/// 4. Scale: the service process's resident memory and CPU while it tracks many jobs at once (tasks
/// that run for an hour, polled on the default schedule), next to the same service idle, so the
/// cost per in-flight job shows. The simulator runs in this process, not the service's, so the
/// service's CPU is its own; the cost of one status check is its CPU beyond idle over the checks it made.
/// </summary>
public static class ScaleBenchmark
{
    public static async Task RunAsync(RealInfrastructure infrastructure, BenchmarkSettings settings, ResultTable table)
    {
        var levels = settings.Quick ? new[] { 0, 100, 1_000 } : [0, 1_000, 10_000];
        var window = TimeSpan.FromSeconds(settings.Size(full: 30, quick: 10));
        var measured = new List<(int Jobs, double RssMb, double CpuPercent, double ChecksPerSecond)>();
        foreach (var jobs in levels)
        {
            var (rss, cpu, checks) = await MeasureAsync(infrastructure, jobs, window);
            Console.WriteLine($"[scale] {jobs} jobs in flight: RSS {rss:F0} MB, CPU {cpu:F1} % of one core, {checks:F0} status calls/s over {window.TotalSeconds:F0} s");
            measured.Add((jobs, rss, cpu, checks));
        }

        var idle = measured[0];
        foreach (var (jobs, rss, cpu, checks) in measured.Skip(1))
        {
            table.Add("4 scale", $"{jobs:N0} jobs in flight: RSS / CPU of one core / status calls per s",
                $"{ResultTable.F(rss, 0)} MB / {ResultTable.F(cpu)} % / {ResultTable.F(checks, 0)}",
                $"idle: {ResultTable.F(idle.RssMb, 0)} MB / {ResultTable.F(idle.CpuPercent)} %",
                $"{ResultTable.F((rss - idle.RssMb) * 1024 / jobs)} KB and {ResultTable.F((cpu - idle.CpuPercent) / jobs * 1000, 2)} % CPU per 1,000 jobs");
            table.Add("4 scale", $"{jobs:N0} jobs in flight: service CPU per status check (ms)",
                ResultTable.F(CpuMillisecondsPerCheck(cpu, idle.CpuPercent, checks), 2),
                "goal: ≤ 2", CpuMillisecondsPerCheck(cpu, idle.CpuPercent, checks) <= 2 ? "goal met" : "goal missed");
        }
    }

    /// <summary>CPU beyond the idle process's, in milliseconds of one core per status check.</summary>
    private static double CpuMillisecondsPerCheck(double cpuPercent, double idlePercent, double checksPerSecond) =>
        checksPerSecond > 0 ? (cpuPercent - idlePercent) / 100 * 1000 / checksPerSecond : double.NaN;

    private static async Task<(double RssMb, double CpuPercent, double ChecksPerSecond)> MeasureAsync(RealInfrastructure infrastructure, int jobs, TimeSpan window)
    {
        var environment = await infrastructure.CreateEnvironmentAsync();
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { QueueSeconds = 0, ProcessingSeconds = 3600, SlowerFactor = 1 });
        await using var service = await ServiceProcess.StartAsync(environment, simulator.BaseAddress, simulator.Options.ApiKey, new Dictionary<string, string>
        {
            ["Kling__MaxConcurrentTasks"] = "100000",
            // The production schedule: first look after 15 s, then at most a minute apart.
            ["Generation__FirstCheckAfter"] = "00:00:15",
            ["Generation__MinCheckInterval"] = "00:00:02",
            ["Generation__MaxCheckInterval"] = "00:01:00",
            ["Generation__JobDeadline"] = "02:00:00",
            ["Logging__LogLevel__KlingService"] = "Warning",
        });
        await using var client = await BusClient.StartAsync(environment.RabbitMq);

        if (jobs > 0)
        {
            await client.SendAsync(Enumerable.Range(0, jobs)
                .Select(i => new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), $"job {i}", VideoMode.Standard, 5)));
            await WaitUntilTrackedAsync(environment, jobs);
        }

        // Settle, then measure a window of steady tracking.
        await Task.Delay(TimeSpan.FromSeconds(3));
        // The pid lets a profiler attach for the window (dotnet-trace collect -p PID).
        Console.WriteLine($"[scale] measuring {jobs} jobs in flight for {window.TotalSeconds:F0} s, service pid {service.ProcessId}");
        var cpuBefore = ProcessMeter.CpuTime(service.ProcessId);
        var checksBefore = simulator.Board.Stats().StatusCalls;
        var watch = Stopwatch.StartNew();
        long peakRss = 0;
        while (watch.Elapsed < window)
        {
            peakRss = Math.Max(peakRss, ProcessMeter.ResidentBytes(service.ProcessId));
            await Task.Delay(500);
        }

        var cpu = (ProcessMeter.CpuTime(service.ProcessId) - cpuBefore) / watch.Elapsed * 100;
        var checks = (simulator.Board.Stats().StatusCalls - checksBefore) / watch.Elapsed.TotalSeconds;
        if (client.Terminal.Count > 0)
        {
            throw new InvalidOperationException($"Scale run: {client.Terminal.Count} jobs ended early; the measurement would not be of tracked jobs.");
        }

        return (peakRss / 1024.0 / 1024.0, cpu, checks);
    }

    private static async Task WaitUntilTrackedAsync(TestEnvironment environment, int jobs)
    {
        await using var database = NpgsqlDataSource.Create(environment.Postgres);
        var giveUp = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (true)
        {
            await using var count = database.CreateCommand($"SELECT count(*) FROM {PostgresSchema.VideoJobs}");
            var tracked = Convert.ToInt32(await count.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
            if (tracked >= jobs)
            {
                return;
            }

            if (DateTime.UtcNow > giveUp)
            {
                throw new TimeoutException($"Only {tracked} of {jobs} jobs were tracked after 10 minutes.");
            }

            await Task.Delay(500);
        }
    }
}
