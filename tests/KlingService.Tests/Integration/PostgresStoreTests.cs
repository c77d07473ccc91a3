using System.Collections.Concurrent;
using KlingService.Generation;
using KlingService.Persistence;
using KlingService.Scheduling;
using KlingService.Tests.Fixtures;
using Npgsql;

namespace KlingService.Tests.Integration;

/// <summary>The PostgreSQL stores under concurrent use, on a real server (the ledger's are <see cref="PostgresRequestLedgerTests"/>).</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class PostgresStoreTests(InfrastructureFixture infrastructure) : IAsyncLifetime
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
    public async Task Creating_the_schema_again_changes_nothing() =>
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => PostgresSchema.EnsureCreatedAsync(_database, CancellationToken.None)));

    [Fact]
    public async Task A_second_message_for_a_job_waits_for_the_first_and_sees_its_changes()
    {
        var job = await InsertJobAsync();
        await using var first = await SagaSession.BeginAsync(_database, CancellationToken.None);
        var firstView = (await first.LoadAsync(job.CorrelationId, forUpdate: true, CancellationToken.None))!;

        var second = Task.Run(async () =>
        {
            await using var session = await SagaSession.BeginAsync(_database, CancellationToken.None);
            return await session.LoadAsync(job.CorrelationId, forUpdate: true, CancellationToken.None);
        });
        var blocked = await Task.WhenAny(second, Task.Delay(TimeSpan.FromMilliseconds(500))) != second;

        firstView.ChecksMade = 7;
        await first.UpdateAsync(firstView, CancellationToken.None);
        await first.CommitAsync(CancellationToken.None);
        var secondView = await second;

        Assert.True(blocked, "The second load did not wait for the first transaction.");
        Assert.Equal((7, 2), (secondView!.ChecksMade, secondView.Version));
    }

    [Fact]
    public async Task A_write_based_on_a_stale_version_is_refused()
    {
        var job = await InsertJobAsync();
        await using (var winner = await SagaSession.BeginAsync(_database, CancellationToken.None))
        {
            var current = (await winner.LoadAsync(job.CorrelationId, forUpdate: true, CancellationToken.None))!;
            await winner.UpdateAsync(current, CancellationToken.None);
            await winner.CommitAsync(CancellationToken.None);
        }

        await using var loser = await SagaSession.BeginAsync(_database, CancellationToken.None);
        await Assert.ThrowsAsync<SagaConcurrencyException>(() => loser.UpdateAsync(job, CancellationToken.None));
    }

    [Fact]
    public async Task A_twin_saga_for_the_same_task_is_not_inserted()
    {
        var job = await InsertJobAsync();

        await using var session = await SagaSession.BeginAsync(_database, CancellationToken.None);
        var inserted = await session.InsertAsync(NewJob(job.TaskId), CancellationToken.None);

        Assert.False(inserted);
    }

    [Fact]
    public async Task Two_dispatchers_send_each_due_message_exactly_once_and_leave_future_ones()
    {
        var store = new ScheduledMessageStore(_database);
        var due = Enumerable.Range(0, 300).Select(_ => Guid.NewGuid()).ToList();
        foreach (var token in due)
        {
            await store.SaveAsync(Row(token, DateTimeOffset.UtcNow.AddSeconds(-1)), CancellationToken.None);
        }

        var future = Guid.NewGuid();
        await store.SaveAsync(Row(future, DateTimeOffset.UtcNow.AddHours(1)), CancellationToken.None);

        var sent = new ConcurrentQueue<Guid>();
        async Task Dispatcher()
        {
            while ((await store.DispatchDueAsync(25, async row => { sent.Enqueue(row.TokenId); await Task.Yield(); }, CancellationToken.None)).Sent > 0)
            {
            }
        }

        await Task.WhenAll(Dispatcher(), Dispatcher());

        Assert.Equal(due.Order(), sent.Order());
        Assert.DoesNotContain(future, sent);
    }

    [Fact]
    public async Task A_cancelled_message_is_never_sent()
    {
        var store = new ScheduledMessageStore(_database);
        var token = Guid.NewGuid();
        await store.SaveAsync(Row(token, DateTimeOffset.UtcNow.AddSeconds(-1)), CancellationToken.None);

        await store.CancelAsync(token, CancellationToken.None);
        var sent = await store.DispatchDueAsync(10, _ => Task.CompletedTask, CancellationToken.None);

        Assert.Equal(0, sent.Sent);
    }

    private static ScheduledMessageRow Row(Guid token, DateTimeOffset dueAt) =>
        new(token, dueAt, new Uri("queue:somewhere"), "urn:message:KlingService.Generation:CheckVideoStatus", "{}", """{"headers":{}}""");

    private static VideoJobState NewJob(string taskId) => new()
    {
        CorrelationId = TaskCorrelation.FromTaskId(taskId),
        TaskId = taskId,
        RequestId = Guid.NewGuid(),
        CurrentState = "Generating",
    };

    private async Task<VideoJobState> InsertJobAsync()
    {
        var job = NewJob($"task-{Guid.NewGuid():N}");
        await using var session = await SagaSession.BeginAsync(_database, CancellationToken.None);
        Assert.True(await session.InsertAsync(job, CancellationToken.None));
        await session.CommitAsync(CancellationToken.None);
        return job;
    }
}
