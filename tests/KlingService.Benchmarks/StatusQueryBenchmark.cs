using System.Diagnostics;
using KlingService.Contracts;
using KlingService.Hosting;
using KlingService.Persistence;
using KlingService.Tests.Fixtures;
using Npgsql;

namespace KlingService.Benchmarks;

/// <summary>
/// 5. The status query: answer time from a .NET client over RabbitMQ with 10,000 job records in
/// PostgreSQL (most ended, some waiting, so queue positions are counted too). Goal: p95 ≤ 50 ms.
/// </summary>
public static class StatusQueryBenchmark
{
    public static async Task RunAsync(RealInfrastructure infrastructure, BenchmarkSettings settings, ResultTable table)
    {
        const int records = 10_000;
        var queries = settings.Size(full: 1_000, quick: 100);
        var environment = await infrastructure.CreateEnvironmentAsync();
        var (app, simulator) = await KlingHost.BuildAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings:RabbitMq"] = environment.RabbitMq.ToString(),
            ["ConnectionStrings:Postgres"] = environment.Postgres,
            ["Kling:UseSimulator"] = "true",
            // No slot: the seeded waiting requests stay waiting while they are asked about.
            ["Kling:MaxConcurrentTasks"] = "1",
            ["Health:Urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await using var service = app;
        await using var _ = simulator;
        await app.StartAsync();
        var ids = await SeedAsync(environment.Postgres, records);
        await using var client = await BusClient.StartAsync(environment.RabbitMq);
        await client.StatusAsync(ids[0]);

        var latencies = new List<double>(queries);
        for (var i = 0; i < queries; i++)
        {
            var watch = Stopwatch.StartNew();
            var status = await client.StatusAsync(ids[Random.Shared.Next(ids.Count)]);
            latencies.Add(watch.Elapsed.TotalMilliseconds);
            if (status.State == JobState.Unknown)
            {
                throw new InvalidOperationException("A seeded record was not found.");
            }
        }

        latencies.Sort();
        var p50 = latencies[latencies.Count / 2];
        var p95 = latencies[(int)(latencies.Count * 0.95)];
        Console.WriteLine($"[status] {queries} queries over {records} records: p50 {p50:F1} ms, p95 {p95:F1} ms");
        table.Add("5 status query", $"answer time p50 / p95 ({queries} queries, {records} records) (ms)",
            $"{ResultTable.F(p50)} / {ResultTable.F(p95)}", "goal: p95 ≤ 50", p95 <= 50 ? "goal met" : "goal missed");
        await app.StopAsync();
    }

    /// <summary>9 in 10 requests ended (with their outcome), 1 in 10 waiting in the backlog.</summary>
    private static async Task<List<Guid>> SeedAsync(string postgres, int records)
    {
        await using var dataSource = NpgsqlDataSource.Create(postgres);
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO {PostgresSchema.RequestLedger} (request_id, lease_until, ended_at, task_id, submitted_at, command, outcome)
            SELECT gen_random_uuid(), '-infinity',
                   CASE WHEN i % 10 = 0 THEN NULL ELSE now() END,
                   CASE WHEN i % 10 = 0 THEN NULL ELSE 'task-' || i END,
                   CASE WHEN i % 10 = 0 THEN NULL ELSE now() END,
                   CASE WHEN i % 10 = 0 THEN @command END,
                   CASE WHEN i % 10 = 0 THEN NULL
                        ELSE jsonb_build_object('ready', jsonb_build_object('requestId', gen_random_uuid(), 'taskId', 'task-' || i,
                            'videoUrl', 'https://cdn.example/' || i || '.mp4', 'videoType', 'mp4', 'timeTaken', '00:01:00')) END
            FROM generate_series(1, @records) AS i
            RETURNING request_id
            """);
        command.Parameters.AddWithValue("records", records);
        command.Parameters.AddWithValue("command", """{"requestId":"00000000-0000-0000-0000-000000000000","image":"x","prompt":"p"}""");
        var ids = new List<Guid>(records);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }
}
