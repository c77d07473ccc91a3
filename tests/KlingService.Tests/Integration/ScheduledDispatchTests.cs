using System.Collections.Concurrent;
using System.Net;
using KlingService.Contracts;
using KlingService.Persistence;
using KlingService.Tests.Fixtures;
using MassTransit;
using Npgsql;

namespace KlingService.Tests.Integration;

/// <summary>A message the tests schedule to themselves through the durable scheduler's table.</summary>
public sealed record SchedulingProbe(Guid Id);

/// <summary>The durable scheduler inside the real service, on a real PostgreSQL: bad rows, superseded tokens.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class ScheduledDispatchTests(InfrastructureFixture infrastructure)
{
    private const string ProbeType = "urn:message:KlingService.Tests.Integration:SchedulingProbe";

    [Fact]
    public async Task Rows_that_cannot_be_sent_delay_only_themselves_and_are_set_aside_after_the_limit()
    {
        var environment = await infrastructure.CreateEnvironmentAsync();
        await using var service = await EmbeddedService.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = environment.Postgres,
            ["Scheduling:Dispatch:MaxAttempts"] = "3",
            ["Scheduling:Dispatch:FirstRetryDelay"] = "00:00:00.200",
            ["Scheduling:Dispatch:MaxRetryDelay"] = "00:00:01",
        });
        await using var database = NpgsqlDataSource.Create(environment.Postgres);
        var (queue, received) = await ConnectProbeAsync(service);

        // Oldest first: the two bad rows are at the head of every batch.
        var unknownType = Guid.NewGuid();
        var badBody = Guid.NewGuid();
        await InsertAsync(database, unknownType, TimeSpan.FromMinutes(-2), queue, "urn:message:KlingService.Generation:RenamedLongAgo", """{"id":"00000000-0000-0000-0000-000000000001"}""");
        await InsertAsync(database, badBody, TimeSpan.FromMinutes(-1), queue, ProbeType, """{"id":"not a guid"}""");
        var good = Enumerable.Range(0, 5).Select(_ => Guid.NewGuid()).ToList();
        foreach (var id in good)
        {
            await InsertAsync(database, Guid.NewGuid(), TimeSpan.FromSeconds(-30), queue, ProbeType, $$"""{"id":"{{id}}"}""");
        }

        await WaitUntilAsync(() => Task.FromResult(received.Count >= good.Count), TimeSpan.FromSeconds(10),
            "The good rows were never sent: the bad ones ahead of them block the batch.");
        Assert.Equal(good.Order(), received.Keys.Order());

        await WaitUntilAsync(async () => await CountAsync(database, $"SELECT count(*) FROM {PostgresSchema.ScheduledMessagesDead}") == 2,
            TimeSpan.FromSeconds(20), "The failing rows were not set aside.");
        Assert.Equal(0, await CountAsync(database, $"SELECT count(*) FROM {PostgresSchema.ScheduledMessages}"));
        Assert.Equal(2, await CountAsync(database,
            $"SELECT count(*) FROM {PostgresSchema.ScheduledMessagesDead} WHERE attempts = 3 AND last_error <> '' AND token_id IN ('{unknownType}', '{badBody}')"));
        var errors = service.Logs.Lines.Where(l => l.StartsWith("Error:", StringComparison.Ordinal) && l.Contains("set aside", StringComparison.Ordinal)).ToList();
        Assert.Contains(errors, l => l.Contains(unknownType.ToString(), StringComparison.Ordinal) && l.Contains("RenamedLongAgo", StringComparison.Ordinal));
        Assert.Contains(errors, l => l.Contains(badBody.ToString(), StringComparison.Ordinal) && l.Contains("SchedulingProbe", StringComparison.Ordinal));

        using var http = new HttpClient { BaseAddress = new Uri(service.App.Urls.First()) };
        var (status, body) = await WaitForReadyBodyAsync(http, "Degraded");
        Assert.Equal((HttpStatusCode.OK, "Degraded"), (status, body));
    }

    [Fact]
    public async Task A_scheduled_message_carries_its_token_as_MassTransit_schedulers_do()
    {
        var environment = await infrastructure.CreateEnvironmentAsync();
        await using var service = await EmbeddedService.StartAsync(new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = environment.Postgres });
        await using var database = NpgsqlDataSource.Create(environment.Postgres);
        var (queue, received) = await ConnectProbeAsync(service);
        var token = Guid.NewGuid();
        var id = Guid.NewGuid();

        await InsertAsync(database, token, TimeSpan.Zero, queue, ProbeType, $$"""{"id":"{{id}}"}""");

        await WaitUntilAsync(() => Task.FromResult(received.ContainsKey(id)), TimeSpan.FromSeconds(10), "The message was not sent.");
        Assert.Equal(token, received[id]);
    }

    [Fact]
    public async Task A_superseded_status_check_does_nothing()
    {
        var environment = await infrastructure.CreateEnvironmentAsync();
        await using var service = await EmbeddedService.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = environment.Postgres,
            // Nothing checks on its own: only the rows this test makes due.
            ["Generation:FirstCheckAfter"] = "01:00:00",
        });
        await using var database = NpgsqlDataSource.Create(environment.Postgres);
        var outcome = service.RunAsync(new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), "a superseded check"));
        Guid current = default;
        await WaitUntilAsync(async () => (current = await CurrentCheckTokenAsync(database)) != Guid.Empty
                && await CountAsync(database, $"SELECT count(*) FROM {PostgresSchema.ScheduledMessages} WHERE token_id = '{current}'") == 1,
            TimeSpan.FromSeconds(30), "The job never scheduled its first check.");

        // A check the saga has since replaced (it holds only the newer token), falling due now.
        var superseded = Guid.NewGuid();
        await ExecuteAsync(database, $"""
            INSERT INTO {PostgresSchema.ScheduledMessages} (token_id, due_at, destination, message_type, body, headers)
            SELECT '{superseded}', now(), destination, message_type, body, headers FROM {PostgresSchema.ScheduledMessages} WHERE token_id = '{current}'
            """);
        await WaitUntilAsync(async () => await CountAsync(database, $"SELECT count(*) FROM {PostgresSchema.ScheduledMessages} WHERE token_id = '{superseded}'") == 0,
            TimeSpan.FromSeconds(10), "The superseded check was never sent.");
        await Task.Delay(TimeSpan.FromSeconds(2));

        Assert.Equal(0, service.Simulator!.Board.Stats().StatusCalls);
        Assert.Equal(0, await CountAsync(database, $"SELECT coalesce(sum((data->>'ChecksMade')::int), 0) FROM {PostgresSchema.VideoJobs}"));
        Assert.Equal(current, await CurrentCheckTokenAsync(database));

        // The current check still works: made due, it runs and the job goes on to its end.
        await ExecuteAsync(database, $"UPDATE {PostgresSchema.ScheduledMessages} SET due_at = now() WHERE token_id = '{current}'");
        Assert.IsType<VideoReady>(await outcome);
    }

    private static async Task<(string Queue, ConcurrentDictionary<Guid, Guid?> Received)> ConnectProbeAsync(EmbeddedService service)
    {
        var queue = $"scheduling-probe-{Guid.NewGuid():N}";
        var received = new ConcurrentDictionary<Guid, Guid?>();
        var handle = service.Bus.ConnectReceiveEndpoint(queue, e => e.Handler<SchedulingProbe>(context =>
        {
            received[context.Message.Id] = context.GetSchedulingTokenId();
            return Task.CompletedTask;
        }));
        await handle.Ready;
        return (queue, received);
    }

    private static async Task InsertAsync(NpgsqlDataSource database, Guid token, TimeSpan dueIn, string queue, string messageType, string body)
    {
        await using var command = database.CreateCommand($"""
            INSERT INTO {PostgresSchema.ScheduledMessages} (token_id, due_at, destination, message_type, body, headers)
            VALUES (@token, now() + @due_in, @destination, @type, @body::jsonb, @headers::jsonb)
            """);
        command.Parameters.AddWithValue("headers", """{"headers":{}}""");
        command.Parameters.AddWithValue("token", token);
        command.Parameters.AddWithValue("due_in", dueIn);
        command.Parameters.AddWithValue("destination", $"queue:{queue}");
        command.Parameters.AddWithValue("type", messageType);
        command.Parameters.AddWithValue("body", body);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<Guid> CurrentCheckTokenAsync(NpgsqlDataSource database)
    {
        await using var command = database.CreateCommand($"SELECT (data->>'StatusCheckTokenId')::uuid FROM {PostgresSchema.VideoJobs} LIMIT 1");
        return await command.ExecuteScalarAsync() is Guid token ? token : Guid.Empty;
    }

    private static async Task<(HttpStatusCode, string)> WaitForReadyBodyAsync(HttpClient http, string expected)
    {
        var giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            using var response = await http.GetAsync("/health/ready");
            var body = await response.Content.ReadAsStringAsync();
            if (body == expected || DateTime.UtcNow > giveUp)
            {
                return (response.StatusCode, body);
            }

            await Task.Delay(100);
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string failure)
    {
        var giveUp = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < giveUp, failure);
            await Task.Delay(50);
        }
    }

    private static async Task<long> CountAsync(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
