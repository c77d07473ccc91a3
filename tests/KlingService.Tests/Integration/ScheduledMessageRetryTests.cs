using KlingService.Persistence;
using KlingService.Scheduling;
using KlingService.Tests.Fixtures;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace KlingService.Tests.Integration;

/// <summary>How the store retries, delays and sets aside a row that cannot be sent, on a real PostgreSQL.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class ScheduledMessageRetryTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    private NpgsqlDataSource _database = null!;
    private ScheduledMessageStore _store = null!;

    public async Task InitializeAsync()
    {
        var environment = await infrastructure.CreateEnvironmentAsync();
        _database = NpgsqlDataSource.Create(environment.Postgres);
        await PostgresSchema.EnsureCreatedAsync(_database, CancellationToken.None);
        _store = new ScheduledMessageStore(_database, new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Scheduling:Dispatch:MaxAttempts"] = "3",
            ["Scheduling:Dispatch:FirstRetryDelay"] = "00:00:10",
            ["Scheduling:Dispatch:MaxRetryDelay"] = "00:00:15",
        }).Build());
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task A_failing_row_waits_longer_each_time_and_is_set_aside_while_the_others_are_sent()
    {
        var bad = Guid.NewGuid();
        await _store.SaveAsync(Row(bad, DateTimeOffset.UtcNow.AddMinutes(-1)), CancellationToken.None);
        var good = new List<Guid>();
        var sent = new List<Guid>();
        Task Send(ScheduledMessageRow row) => row.TokenId == bad
            ? throw ScheduledDispatchException.Unreadable("no such type")
            : Record(sent, row);

        var delays = new List<TimeSpan>();
        var results = new List<DispatchResult>();
        for (var round = 0; round < 3; round++)
        {
            var token = Guid.NewGuid();
            good.Add(token);
            await _store.SaveAsync(Row(token, DateTimeOffset.UtcNow.AddSeconds(-1)), CancellationToken.None);
            results.Add(await _store.DispatchDueAsync(10, Send, CancellationToken.None));
            if (round < 2)
            {
                var (attempts, dueIn, error) = await StateAsync(bad);
                Assert.Equal(round + 1, attempts);
                Assert.Equal("no such type", error);
                delays.Add(dueIn);
                // Not due again until its delay has passed.
                Assert.Equal(0, (await _store.DispatchDueAsync(10, Send, CancellationToken.None)).Handled);
                await ExecuteAsync($"UPDATE {PostgresSchema.ScheduledMessages} SET due_at = now() - interval '1 second' WHERE token_id = '{bad}'");
            }
        }

        Assert.Equal(good, sent);
        Assert.All(results, r => Assert.Equal(1, r.Sent));
        Assert.InRange(delays[0], TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(10.5));
        Assert.InRange(delays[1], TimeSpan.FromSeconds(13), TimeSpan.FromSeconds(15.5));
        Assert.Equal([false, false, true], results.Select(r => r.Failed.Single().SetAside));
        Assert.Equal(0, await CountAsync($"SELECT count(*) FROM {PostgresSchema.ScheduledMessages}"));
        Assert.Equal(1, await CountAsync($"SELECT count(*) FROM {PostgresSchema.ScheduledMessagesDead} WHERE token_id = '{bad}' AND attempts = 3"));
        Assert.Equal(1, await _store.CountSetAsideAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_send_failure_while_the_broker_is_away_ends_the_batch_and_never_sets_the_row_aside()
    {
        var first = Guid.NewGuid();
        var second = Guid.NewGuid();
        await _store.SaveAsync(Row(first, DateTimeOffset.UtcNow.AddMinutes(-1)), CancellationToken.None);
        await _store.SaveAsync(Row(second, DateTimeOffset.UtcNow.AddSeconds(-30)), CancellationToken.None);
        var tried = new List<Guid>();
        Task BrokerAway(ScheduledMessageRow row)
        {
            tried.Add(row.TokenId);
            throw ScheduledDispatchException.SendFailed(new TimeoutException("send timed out"), busHealthy: false);
        }

        for (var round = 0; round < 5; round++)
        {
            await ExecuteAsync($"UPDATE {PostgresSchema.ScheduledMessages} SET due_at = now() - interval '1 minute' WHERE token_id = '{first}'");
            var result = await _store.DispatchDueAsync(10, BrokerAway, CancellationToken.None);
            Assert.True(result.Interrupted);
        }

        Assert.Equal(Enumerable.Repeat(first, 5), tried);
        Assert.Equal(5, (await StateAsync(first)).Attempts);
        Assert.Equal(0, (await StateAsync(second)).Attempts);
        Assert.Equal(0, await _store.CountSetAsideAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Sends_that_time_out_while_the_bus_says_it_is_healthy_never_set_the_row_aside()
    {
        // A broker under a memory or disk alarm keeps the connection up (the bus is healthy) and blocks every publish.
        var blocked = Guid.NewGuid();
        await _store.SaveAsync(Row(blocked, DateTimeOffset.UtcNow.AddMinutes(-1)), CancellationToken.None);
        static Task Blocked(ScheduledMessageRow row) =>
            throw ScheduledDispatchException.SendFailed(new OperationCanceledException("the send did not complete in time"), busHealthy: true);

        for (var round = 0; round < 6; round++)
        {
            await ExecuteAsync($"UPDATE {PostgresSchema.ScheduledMessages} SET due_at = now() - interval '1 minute' WHERE token_id = '{blocked}'");
            await _store.DispatchDueAsync(10, Blocked, CancellationToken.None);
        }

        Assert.Equal(0, await _store.CountSetAsideAsync(CancellationToken.None));
        Assert.Equal(6, (await StateAsync(blocked)).Attempts);
    }

    public static TheoryData<Exception, bool, bool> SendFailures() => new()
    {
        { new InvalidOperationException("The exchange does not exist"), true, true },
        { new InvalidOperationException("The exchange does not exist"), false, false },
        { new OperationCanceledException(), true, false },
        { new TimeoutException(), true, false },
        { new MassTransit.MassTransitException("send failed", new TaskCanceledException()), true, false },
    };

    [Theory]
    [MemberData(nameof(SendFailures))]
    public void Only_an_error_the_broker_gave_while_healthy_counts_against_the_row(Exception failure, bool busHealthy, bool counts) =>
        Assert.Equal(counts, ScheduledDispatchException.CountsAgainstTheRow(failure, busHealthy));

    [Fact]
    public async Task Cancelling_a_set_aside_message_clears_it()
    {
        var token = Guid.NewGuid();
        await _store.SaveAsync(Row(token, DateTimeOffset.UtcNow.AddSeconds(-1)), CancellationToken.None);
        await ExecuteAsync($"UPDATE {PostgresSchema.ScheduledMessages} SET attempts = 2 WHERE token_id = '{token}'");
        await _store.DispatchDueAsync(10, _ => throw ScheduledDispatchException.Unreadable("bad body"), CancellationToken.None);
        var setAside = await _store.CountSetAsideAsync(CancellationToken.None);

        await _store.CancelAsync(token, CancellationToken.None);

        Assert.Equal(1, setAside);
        Assert.Equal(0, await _store.CountSetAsideAsync(CancellationToken.None));
    }

    private static Task Record(List<Guid> sent, ScheduledMessageRow row)
    {
        sent.Add(row.TokenId);
        return Task.CompletedTask;
    }

    private static ScheduledMessageRow Row(Guid token, DateTimeOffset dueAt) =>
        new(token, dueAt, new Uri("queue:somewhere"), "urn:message:KlingService.Generation:CheckVideoStatus", "{}", """{"headers":{}}""");

    private async Task<(int Attempts, TimeSpan DueIn, string? Error)> StateAsync(Guid token)
    {
        await using var command = _database.CreateCommand(
            $"SELECT attempts, due_at - now(), last_error FROM {PostgresSchema.ScheduledMessages} WHERE token_id = @token");
        command.Parameters.AddWithValue("token", token);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetInt32(0), reader.GetFieldValue<TimeSpan>(1), reader.IsDBNull(2) ? null : reader.GetString(2));
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var command = _database.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = _database.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
