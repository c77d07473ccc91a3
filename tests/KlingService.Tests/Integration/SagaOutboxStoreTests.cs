using System.Text.Json;
using KlingService.Generation;
using KlingService.Outbox;
using KlingService.Persistence;
using KlingService.Scheduling;
using KlingService.Tests.Fixtures;
using Npgsql;

namespace KlingService.Tests.Integration;

/// <summary>The saga's outbox rows in <c>kling_scheduled_messages</c>, on a real PostgreSQL.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class SagaOutboxStoreTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    private NpgsqlDataSource _database = null!;

    public async Task InitializeAsync()
    {
        var environment = await infrastructure.CreateEnvironmentAsync();
        _database = NpgsqlDataSource.Create(environment.Postgres);
        await PostgresSchema.EnsureCreatedAsync(_database, CancellationToken.None);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task One_transactions_messages_are_sent_in_order_with_their_MessageIds_and_schedules_replace_cancelled_ones()
    {
        var store = new ScheduledMessageStore(_database);
        var oldCheck = Guid.NewGuid();
        await store.SaveAsync(Row(oldCheck, DateTimeOffset.UtcNow.AddSeconds(-1), messageId: null), CancellationToken.None);
        var published = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToList();
        var newCheck = Guid.NewGuid();
        var checkMessageId = Guid.NewGuid();

        await using (var session = await SagaSession.BeginAsync(_database, CancellationToken.None))
        {
            var entries = new List<OutboxEntry>(published.Select(id => new OutboxEntry.DueNow(Row(id, DateTimeOffset.UtcNow, id, JobBody))))
            {
                new OutboxEntry.Scheduled(Row(newCheck, DateTimeOffset.UtcNow.AddHours(1), checkMessageId)),
                new OutboxEntry.Cancelled(oldCheck),
            };
            await session.WriteOutboxAsync(entries, CancellationToken.None);
            await session.CommitAsync(CancellationToken.None);
        }

        var sent = new System.Collections.Concurrent.ConcurrentQueue<ScheduledMessageRow>();
        await store.DispatchDueAsync(100, async row =>
        {
            // Sends of other jobs run side by side; give them the chance to overtake.
            await Task.Delay(Random.Shared.Next(5));
            sent.Enqueue(row);
        }, CancellationToken.None);

        // One job's events (one requestId) in publish order, each as an outbox row under its MessageId; the cancelled check gone, the new one waiting.
        Assert.Equal(published, sent.Select(r => r.TokenId));
        Assert.All(sent, r => Assert.True(r.IsOutboxMessage));
        await using var command = _database.CreateCommand($"SELECT token_id, message_id FROM {PostgresSchema.ScheduledMessages}");
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(newCheck, reader.GetGuid(0));
        Assert.Equal(checkMessageId, reader.GetGuid(1));
        Assert.False(await reader.ReadAsync());
    }

    [Fact]
    public async Task Messages_of_a_transaction_that_did_not_commit_are_never_sent()
    {
        await using (var session = await SagaSession.BeginAsync(_database, CancellationToken.None))
        {
            var id = Guid.NewGuid();
            await session.WriteOutboxAsync([new OutboxEntry.DueNow(Row(id, DateTimeOffset.UtcNow, id))], CancellationToken.None);
            // Disposed without a commit: the saga's handling failed.
        }

        var result = await new ScheduledMessageStore(_database).DispatchDueAsync(10, _ => Task.CompletedTask, CancellationToken.None);

        Assert.Equal(0, result.Sent);
    }

    [Fact]
    public async Task A_checks_new_state_and_its_rows_commit_together_in_one_write()
    {
        var job = await InsertJobAsync();
        var progressed = Guid.NewGuid();
        var nextCheck = Guid.NewGuid();

        await using (var session = await SagaSession.BeginAsync(_database, CancellationToken.None))
        {
            var loaded = (await session.LoadAsync(job.CorrelationId, forUpdate: true, CancellationToken.None))!;
            loaded.ChecksMade = 3;
            session.StageUpdate(loaded);
            await session.WriteOutboxAsync(
                [new OutboxEntry.DueNow(Row(progressed, DateTimeOffset.UtcNow, progressed)), new OutboxEntry.Scheduled(Row(nextCheck, DateTimeOffset.UtcNow.AddMinutes(1), Guid.NewGuid()))],
                CancellationToken.None);
            await session.CommitAsync(CancellationToken.None);
        }

        await using var reader = await _database.CreateCommand($"SELECT data, version FROM {PostgresSchema.VideoJobs}").ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((3, 2), (JsonSerializer.Deserialize<VideoJobState>(reader.GetString(0))!.ChecksMade, reader.GetInt32(1)));
        Assert.Equal(new[] { progressed, nextCheck }.Order(), (await TokensAsync()).Order());
    }

    [Fact]
    public async Task A_stale_state_is_refused_with_its_rows_and_none_of_them_is_sent()
    {
        var job = await InsertJobAsync();
        await using (var winner = await SagaSession.BeginAsync(_database, CancellationToken.None))
        {
            var current = (await winner.LoadAsync(job.CorrelationId, forUpdate: true, CancellationToken.None))!;
            winner.StageUpdate(current);
            await winner.CommitAsync(CancellationToken.None);
        }

        var progressed = Guid.NewGuid();
        await using (var loser = await SagaSession.BeginAsync(_database, CancellationToken.None))
        {
            loser.StageUpdate(job);
            await Assert.ThrowsAsync<SagaConcurrencyException>(() =>
                loser.WriteOutboxAsync([new OutboxEntry.DueNow(Row(progressed, DateTimeOffset.UtcNow, progressed))], CancellationToken.None));
        }

        var result = await new ScheduledMessageStore(_database).DispatchDueAsync(10, _ => Task.CompletedTask, CancellationToken.None);
        Assert.Equal(0, result.Sent);
        Assert.Empty(await TokensAsync());
    }

    private async Task<VideoJobState> InsertJobAsync()
    {
        var taskId = $"task-{Guid.NewGuid():N}";
        var job = new VideoJobState
        {
            CorrelationId = TaskCorrelation.FromTaskId(taskId), TaskId = taskId, RequestId = Guid.NewGuid(), CurrentState = "Generating",
        };
        await using var session = await SagaSession.BeginAsync(_database, CancellationToken.None);
        Assert.True(await session.InsertAsync(job, CancellationToken.None));
        await session.CommitAsync(CancellationToken.None);
        return job;
    }

    private async Task<List<Guid>> TokensAsync()
    {
        await using var reader = await _database.CreateCommand($"SELECT token_id FROM {PostgresSchema.ScheduledMessages}").ExecuteReaderAsync();
        var tokens = new List<Guid>();
        while (await reader.ReadAsync())
        {
            tokens.Add(reader.GetGuid(0));
        }

        return tokens;
    }

    private static ScheduledMessageRow Row(Guid token, DateTimeOffset dueAt, Guid? messageId, string body = "{}") =>
        new(token, dueAt, new Uri("exchange:KlingService.Contracts:VideoReady"), "urn:message:KlingService.Contracts:VideoReady", body, """{"headers":{}}""",
            MessageId: messageId);

    // The body of one job's event: the dispatcher keeps a job's rows in order by its requestId.
    private static readonly string JobBody = $$"""{"requestId":"{{Guid.NewGuid()}}"}""";
}
