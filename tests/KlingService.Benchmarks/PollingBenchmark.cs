using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Persistence;
using Microsoft.Extensions.Options;

namespace KlingService.Benchmarks;

/// <summary>
/// 2. Polling efficiency: status calls per job and detection lag (provider done → the poll that
/// sees it). The service's own <see cref="StatusCheckPolicy"/> (default settings) learning as it
/// goes in its own <see cref="InMemoryJobTimingModel"/> (the code embedded mode runs; PostgreSQL
/// folds the same statistics), beside the same policy with nothing learned (the policy before the
/// model), a fixed 10-second poller and an oracle that polls once at the exact finish. Generation
/// times spread from 30 s to 10 min with a long tail, one (mode, duration). Jobs run one after
/// another and each teaches the model when it ends; the first 100 (cold) are reported apart from
/// the rest (warm). Played on a virtual clock: a 10-minute job costs no wall time (the pipeline's
/// own latency, a few milliseconds, is measured in scenario 1).
/// </summary>
public static class PollingBenchmark
{
    private const int ColdJobs = 100;

    private static readonly TimeSpan FixedInterval = TimeSpan.FromSeconds(10);

    private static readonly DateTimeOffset Epoch = DateTimeOffset.UnixEpoch;

    /// <summary>The eta the provider states with this much really left. Like the simulator (and the API), whole seconds, counting down.</summary>
    private delegate int? Eta(double remaining, Random random);

    public static void Run(BenchmarkSettings settings, ResultTable table)
    {
        var jobs = settings.Size(full: 5_000, quick: 500);
        var random = new Random(42);
        var durations = Enumerable.Range(0, jobs).Select(_ => GenerationTime(random)).ToList();
        var options = Options.Create(new GenerationOptions());
        var policy = new StatusCheckPolicy(options);

        // How well the provider's eta predicts the finish changes what a policy can do with it. The
        // first three are the workloads measured before the model (same seed, same order); "late"
        // means the eta says more time is left than there is.
        foreach (var (name, eta) in new (string, Eta)[]
        {
            ("exact eta", (remaining, _) => (int)Math.Ceiling(remaining)),
            ("eta ±30 %", (remaining, r) => (int)Math.Ceiling(remaining * (0.7 + (r.NextDouble() * 0.6)))),
            ("no eta", (_, _) => null),
            ("eta 25 % late", (remaining, _) => (int)Math.Ceiling(remaining * 1.25)),
            ("eta 25 % early", (remaining, _) => (int)Math.Ceiling(remaining * 0.75)),
        })
        {
            var before = durations.Select((d, i) => Track(policy, TimingStatistics.Cold, i, d, eta, random).Result).ToList();
            var model = new InMemoryJobTimingModel(options);
            var learned = new List<(int Calls, double Lag)>(jobs);
            for (var i = 0; i < durations.Count; i++)
            {
                var (result, job, foundAt) = Track(policy, model.Get(VideoMode.Standard, 5), i, durations[i], eta, random);
                model.Record(TimingObservation.Of(job, Epoch.AddSeconds(foundAt)));
                learned.Add(result);
            }

            var fixedPoller = durations.Select(Fixed).ToList();
            Report(table, name, learned, before, fixedPoller);
            if (name == "no eta")
            {
                ReportBound(table, name, durations.Skip(ColdJobs).ToList(), P(fixedPoller.Skip(ColdJobs).ToList(), 95));
            }

            var error = model.Get(VideoMode.Standard, 5).EtaError;
            Console.WriteLine($"[polling] {name}: learned eta error (log) {ResultTable.F(error.Mean, 5)} ± {ResultTable.F(error.Spread, 5)}, " +
                $"total p50 {ResultTable.F(Math.Exp(model.Get(VideoMode.Standard, 5).Total.Mean), 0)} s ± {ResultTable.F(model.Get(VideoMode.Standard, 5).Total.Spread, 3)} (log), first check {ResultTable.F(policy.FirstCheck(model.Get(VideoMode.Standard, 5)).TotalSeconds, 1)} s");
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

    /// <summary>One job as the saga plays it: each check that sees it running notes what it saw, as the status-check activity does.</summary>
    private static ((int Calls, double Lag) Result, VideoJobState Job, double FoundAt) Track(
        StatusCheckPolicy policy, TimingStatistics model, int index, double duration, Eta eta, Random random)
    {
        var job = new VideoJobState
        {
            CorrelationId = TaskCorrelation.FromTaskId($"task-{index}"), Mode = VideoMode.Standard, DurationSeconds = 5, SubmittedAt = Epoch,
        };
        var now = policy.FirstCheck(model).TotalSeconds;
        var calls = 0;
        while (true)
        {
            calls++;
            if (now >= duration)
            {
                return ((calls, now - duration), job, now);
            }

            job.ChecksMade++;
            job.EtaSeconds = eta(duration - now, random);
            TimingObservation.NoteRunning(job, Epoch.AddSeconds(now));
            now += policy.NextCheck(job, model, TimeSpan.FromSeconds(now)).TotalSeconds;
        }
    }

    private static (int Calls, double Lag) Fixed(double duration)
    {
        var calls = (int)Math.Ceiling(duration / FixedInterval.TotalSeconds);
        return (calls, (calls * FixedInterval.TotalSeconds) - duration);
    }

    private static void Report(
        ResultTable table, string eta, List<(int Calls, double Lag)> learned, List<(int Calls, double Lag)> before, List<(int Calls, double Lag)> fixedPoller)
    {
        var scenario = $"2 polling, {eta}";
        var warm = learned.Skip(ColdJobs).ToList();
        var cold = learned.Take(ColdJobs).ToList();
        var beforeWarm = before.Skip(ColdJobs).ToList();
        var fixedWarm = fixedPoller.Skip(ColdJobs).ToList();
        var calls = warm.Average(r => r.Calls);
        var fixedCalls = fixedWarm.Average(r => r.Calls);
        table.Add(scenario, $"status calls per job (warm: jobs {ColdJobs + 1}–{learned.Count})", ResultTable.F(calls, 2),
            $"unlearned policy: {ResultTable.F(beforeWarm.Average(r => r.Calls), 2)}; fixed 10 s: {ResultTable.F(fixedCalls, 2)}; oracle: 1",
            $"{ResultTable.F(calls / fixedCalls, 2)}× the fixed poller's");
        table.Add(scenario, "detection lag p50 / p95 (s), warm", Lags(warm),
            $"unlearned policy: {Lags(beforeWarm)}; fixed 10 s: {Lags(fixedWarm)}; oracle: 0 / 0",
            $"p95 {ResultTable.F(P(warm, 95) - P(fixedWarm, 95))} s vs fixed");
        table.Add(scenario, $"cold (first {ColdJobs} jobs): calls per job, lag p50 / p95 (s)",
            $"{ResultTable.F(cold.Average(r => r.Calls), 2)}, {Lags(cold)}",
            $"unlearned policy: {ResultTable.F(before.Take(ColdJobs).Average(r => r.Calls), 2)}, {Lags(before.Take(ColdJobs).ToList())}", "");
    }

    /// <summary>
    /// Without an eta, what the best single schedule of checks does when it knows these very
    /// generation times: the fewest calls found while no more than 5 % of jobs are seen later than
    /// <paramref name="lagBound"/> (the fixed poller's p95). Dynamic programming over check times
    /// 0.5 s apart, with a price on each late job swept from low to high. No policy without an eta
    /// can do much better (mixing such schedules gains a few tenths of a call at most).
    /// </summary>
    private static void ReportBound(ResultTable table, string eta, List<double> durations, double lagBound)
    {
        const double step = 0.5;
        var sorted = durations.Order().ToArray();
        var points = (int)Math.Ceiling(sorted[^1] / step) + 1;
        double Share(double at) => (double)UpperBound(sorted, at) / sorted.Length; // P(T <= at)
        double ShareBelow(double at) => (double)LowerBound(sorted, at) / sorted.Length; // P(T < at)
        var widest = (int)(TimeSpan.FromSeconds(60).TotalSeconds / step);
        (double Calls, double Late) best = (double.MaxValue, 0);
        for (var price = 1.0; price <= 60; price += 0.5)
        {
            var value = new double[points + 1];
            var next = new int[points + 1];
            for (var i = points; i >= 0; i--)
            {
                var at = i * step;
                var running = 1 - Share(at);
                if (running <= 0)
                {
                    continue;
                }

                value[i] = double.MaxValue;
                for (var j = i + 1; j <= Math.Min(points, i + widest); j++)
                {
                    var late = j * step - lagBound > at ? Math.Max(0, ShareBelow(j * step - lagBound) - Share(at)) : 0;
                    var cost = running + (price * late) + value[j];
                    if (cost < value[i])
                    {
                        (value[i], next[i]) = (cost, j);
                    }
                }
            }

            double calls = 0, lateShare = 0;
            for (var i = 0; 1 - Share(i * step) > 0; i = next[i])
            {
                var at = i * step;
                var to = next[i] * step;
                calls += 1 - Share(at);
                lateShare += to - lagBound > at ? Math.Max(0, ShareBelow(to - lagBound) - Share(at)) : 0;
            }

            if (lateShare <= 0.05 && calls < best.Calls)
            {
                best = (calls, lateShare);
            }
        }

        table.Add($"2 polling, {eta}", $"best schedule knowing the times (DP): calls per job, ≤ 5 % seen later than {ResultTable.F(lagBound)} s",
            ResultTable.F(best.Calls, 2), $"{ResultTable.F(best.Late * 100)} % of jobs later than that", "knows the exact generation times; no eta");
    }

    private static int LowerBound(double[] sorted, double value)
    {
        var index = Array.BinarySearch(sorted, value);
        if (index < 0)
        {
            return ~index;
        }

        while (index > 0 && sorted[index - 1] == value)
        {
            index--;
        }

        return index;
    }

    private static int UpperBound(double[] sorted, double value)
    {
        var index = Array.BinarySearch(sorted, value);
        if (index < 0)
        {
            return ~index;
        }

        while (index < sorted.Length && sorted[index] == value)
        {
            index++;
        }

        return index;
    }

    private static double P(List<(int Calls, double Lag)> results, double percentile) =>
        ResultTable.Percentile(results.Select(r => r.Lag).ToList(), percentile);

    private static string Lags(List<(int Calls, double Lag)> results) =>
        $"{ResultTable.F(P(results, 50))} / {ResultTable.F(P(results, 95))}";
}
