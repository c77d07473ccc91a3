using KlingService.Generation;
using Microsoft.Extensions.Options;

namespace KlingService.Benchmarks;

/// <summary>
/// 2. Polling efficiency: status calls per job and detection lag (provider done → the poll that
/// sees it), for the service's own <see cref="StatusCheckPolicy"/> with its default settings, a
/// fixed 10-second poller and an oracle that polls once at the exact finish. Generation times
/// spread from 30 s to 10 min with a long tail. Played on a virtual clock: the policy decides the
/// same as in the service, and a 10-minute job costs no wall time (the pipeline's own latency, a
/// few milliseconds, is measured in scenario 1).
/// </summary>
public static class PollingBenchmark
{
    private static readonly TimeSpan FixedInterval = TimeSpan.FromSeconds(10);

    public static void Run(BenchmarkSettings settings, ResultTable table)
    {
        var jobs = settings.Size(full: 5_000, quick: 500);
        var random = new Random(42);
        var durations = Enumerable.Range(0, jobs).Select(_ => GenerationTime(random)).ToList();
        var policy = new StatusCheckPolicy(Options.Create(new GenerationOptions()));

        // How well the provider's eta predicts the finish changes what a policy can do with it.
        foreach (var (name, eta) in new (string, Func<double, double, Random, int?>)[]
        {
            ("exact eta", (remaining, _, _) => (int)Math.Ceiling(remaining)),
            ("eta ±30 %", (remaining, _, r) => (int)Math.Ceiling(remaining * (0.7 + (r.NextDouble() * 0.6)))),
            ("no eta", (_, _, _) => null),
        })
        {
            var service = durations.Select(d => WithPolicy(policy, d, eta, random)).ToList();
            var fixedPoller = durations.Select(d => Fixed(d)).ToList();
            Report(table, name, jobs, service, fixedPoller);
        }

        Console.WriteLine($"[polling] {jobs} jobs, generation p50 {ResultTable.F(ResultTable.Percentile(durations, 50), 0)} s, " +
            $"p95 {ResultTable.F(ResultTable.Percentile(durations, 95), 0)} s, max {ResultTable.F(durations.Max(), 0)} s");
    }

    /// <summary>30 s to 10 min: most jobs take one to three minutes, a few far longer.</summary>
    private static double GenerationTime(Random random)
    {
        // Log-normal around 100 s (Box-Muller for the normal draw).
        var normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return Math.Clamp(100 * Math.Exp(0.6 * normal), 30, 600);
    }

    private static (int Calls, double Lag) WithPolicy(StatusCheckPolicy policy, double duration, Func<double, double, Random, int?> eta, Random random)
    {
        var job = new VideoJobState();
        var now = policy.FirstCheck().TotalSeconds;
        var calls = 0;
        while (true)
        {
            calls++;
            if (now >= duration)
            {
                return (calls, now - duration);
            }

            job.ChecksMade++;
            job.EtaSeconds = eta(duration - now, duration, random);
            now += policy.NextCheck(job).TotalSeconds;
        }
    }

    private static (int Calls, double Lag) Fixed(double duration)
    {
        var calls = (int)Math.Ceiling(duration / FixedInterval.TotalSeconds);
        return (calls, (calls * FixedInterval.TotalSeconds) - duration);
    }

    private static void Report(ResultTable table, string eta, int jobs, List<(int Calls, double Lag)> service, List<(int Calls, double Lag)> fixedPoller)
    {
        var scenario = $"2 polling, {eta}";
        var serviceCalls = service.Average(r => r.Calls);
        var fixedCalls = fixedPoller.Average(r => r.Calls);
        table.Add(scenario, $"status calls per job ({jobs} jobs)", ResultTable.F(serviceCalls, 2),
            $"fixed 10 s: {ResultTable.F(fixedCalls, 2)}; oracle: 1", $"{ResultTable.F(fixedCalls / serviceCalls)}× fewer than fixed");
        var serviceLags = service.Select(r => r.Lag).ToList();
        var fixedLags = fixedPoller.Select(r => r.Lag).ToList();
        table.Add(scenario, "detection lag p50 / p95 (s)",
            $"{ResultTable.F(ResultTable.Percentile(serviceLags, 50))} / {ResultTable.F(ResultTable.Percentile(serviceLags, 95))}",
            $"fixed 10 s: {ResultTable.F(ResultTable.Percentile(fixedLags, 50))} / {ResultTable.F(ResultTable.Percentile(fixedLags, 95))}; oracle: 0 / 0",
            $"p95 {ResultTable.F(ResultTable.Percentile(serviceLags, 95) - ResultTable.Percentile(fixedLags, 95))} s vs fixed");
    }
}
