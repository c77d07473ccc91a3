using System.Diagnostics;
using KlingService.Contracts;
using KlingService.Hosting;
using KlingService.Tests.Fixtures;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace KlingService.Benchmarks;

/// <summary>
/// 1. Pipeline overhead: jobs per second end to end (GenerateVideo → VideoReady) on RabbitMQ and
/// PostgreSQL with a provider that finishes at once, next to raw MassTransit publish → consume on
/// the same broker; and how many messages the service handles per job.
/// </summary>
public static class PipelineBenchmark
{
    public static async Task RunAsync(RealInfrastructure infrastructure, BenchmarkSettings settings, ResultTable table)
    {
        var messages = settings.Size(full: 20_000, quick: 2_000);
        var jobs = settings.Size(full: 500, quick: 50);

        var rawRate = await RawMassTransitAsync(await infrastructure.CreateEnvironmentAsync(), messages);
        Console.WriteLine($"[pipeline] raw MassTransit: {messages} messages at {rawRate:F0}/s");
        var (jobRate, perJob, dispatch) = await ServiceAsync(await infrastructure.CreateEnvironmentAsync(), jobs);
        Console.WriteLine($"[pipeline] service: {jobs} jobs at {jobRate:F1}/s, {perJob:F1} messages per job; outbox dispatch p50 {dispatch.P50:F0} ms, p95 {dispatch.P95:F0} ms");

        const string scenario = "1 pipeline";
        table.Add(scenario, $"throughput ({jobs} jobs; {messages} raw messages)", $"{ResultTable.F(jobRate)} jobs/s", $"{ResultTable.F(rawRate, 0)} messages/s raw publish→consume",
            $"one job costs the time of {ResultTable.F(rawRate / jobRate, 0)} raw messages");
        table.Add(scenario, "messages the service receives per job", ResultTable.F(perJob), "1 (a bare consume)",
            $"{ResultTable.F(jobRate * perJob / rawRate * 100, 0)} % of the raw rate in messages");
        table.Add(scenario, "saga's final commit → VideoReady at the client, p50 / p95 (ms), under this load",
            $"{ResultTable.F(dispatch.P50, 0)} / {ResultTable.F(dispatch.P95, 0)}", "goal: p95 ≤ 200", dispatch.P95 <= 200 ? "goal met" : "goal missed");
    }

    private static async Task<double> RawMassTransitAsync(TestEnvironment environment, int count)
    {
        var consumed = 0;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(environment.RabbitMq);
            cfg.ReceiveEndpoint("bench-ping", endpoint => endpoint.Handler<Ping>(_ =>
            {
                if (Interlocked.Increment(ref consumed) == count)
                {
                    all.TrySetResult();
                }

                return Task.CompletedTask;
            }));
        });
        await bus.StartAsync();
        try
        {
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, count).Select(i => bus.Publish(new Ping(i))));
            await all.Task.WaitAsync(TimeSpan.FromMinutes(5));
            return count / watch.Elapsed.TotalSeconds;
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    private static async Task<(double JobsPerSecond, double MessagesPerJob, (double P50, double P95) Dispatch)> ServiceAsync(TestEnvironment environment, int jobs)
    {
        var (app, simulator) = await KlingHost.BuildAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings:RabbitMq"] = environment.RabbitMq.ToString(),
            ["ConnectionStrings:Postgres"] = environment.Postgres,
            ["Kling:UseSimulator"] = "true",
            ["Simulator:QueueSeconds"] = "0",
            ["Simulator:ProcessingSeconds"] = "0",
            ["Kling:MaxConcurrentTasks"] = "100000",
            // The task is done when created: look at once, as a provider that finishes instantly allows.
            ["Generation:FirstCheckAfter"] = "00:00:00.010",
            ["Health:Urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await using var service = app;
        await using var _ = simulator;
        await app.StartAsync();
        var received = new ReceiveCounter();
        app.Services.GetRequiredService<IBus>().ConnectReceiveObserver(received);
        await using var client = await BusClient.StartAsync(environment.RabbitMq);

        var commands = Enumerable.Range(0, jobs)
            .Select(i => new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), $"job {i}", VideoMode.Standard, 5))
            .ToList();
        var watch = Stopwatch.StartNew();
        await client.SendAsync(commands);
        var ended = await client.WaitForTerminalAsync(jobs, TimeSpan.FromMinutes(5));
        var elapsed = watch.Elapsed;
        if (ended != jobs || client.Terminal.Any(e => e is not VideoReady))
        {
            throw new InvalidOperationException($"Pipeline run: {ended} of {jobs} jobs ended, not all ready.");
        }

        var dispatch = await DispatchLatencyAsync(environment.Postgres, client);
        await app.StopAsync();
        return (jobs / elapsed.TotalSeconds, received.Count / (double)jobs, dispatch);
    }

    /// <summary>
    /// From the saga's end (its ledger write, a moment before the commit that holds VideoReady as an
    /// outbox row) to the client receiving the event: the outbox's dispatch latency, with its poke.
    /// </summary>
    private static async Task<(double P50, double P95)> DispatchLatencyAsync(string postgres, BusClient client)
    {
        await using var database = Npgsql.NpgsqlDataSource.Create(postgres);
        await using var command = database.CreateCommand($"SELECT request_id, ended_at FROM {KlingService.Persistence.PostgresSchema.RequestLedger} WHERE ended_at IS NOT NULL");
        var endedAt = new Dictionary<Guid, DateTimeOffset>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                endedAt[reader.GetGuid(0)] = reader.GetFieldValue<DateTimeOffset>(1);
            }
        }

        var latencies = client.Terminal.OfType<VideoReady>().Zip(client.EndedAt)
            .Where(pair => endedAt.ContainsKey(pair.First.RequestId))
            .Select(pair => (pair.Second - endedAt[pair.First.RequestId]).TotalMilliseconds)
            .Order()
            .ToList();
        return (latencies[latencies.Count / 2], latencies[(int)(latencies.Count * 0.95)]);
    }

    public sealed record Ping(int Sequence);

    private sealed class ReceiveCounter : IReceiveObserver
    {
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public Task PreReceive(ReceiveContext context) => Task.CompletedTask;

        public Task PostReceive(ReceiveContext context)
        {
            Interlocked.Increment(ref _count);
            return Task.CompletedTask;
        }

        public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType)
            where T : class => Task.CompletedTask;

        public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception)
            where T : class => Task.CompletedTask;

        public Task ReceiveFault(ReceiveContext context, Exception exception) => Task.CompletedTask;
    }
}
