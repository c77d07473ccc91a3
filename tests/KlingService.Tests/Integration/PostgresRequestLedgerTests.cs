using System.Collections.Concurrent;
using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Outbox;
using KlingService.Persistence;
using KlingService.Tests.Fixtures;
using KlingService.Tests.Ledger;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace KlingService.Tests.Integration;

/// <summary>
/// The <see cref="RequestLedgerSpec"/> against PostgreSQL, on a real server and its clock; then what only PostgreSQL has:
/// several instances taking at once, the upgrade of an older version's claims, and the rules written in SQL.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class PostgresRequestLedgerTests(InfrastructureFixture infrastructure) : RequestLedgerSpec, IAsyncLifetime
{
    // A bus that is never started: it only lends its topology (publish addresses) to the outbox rows.
    private static readonly IServiceProvider UnstartedBus = new ServiceCollection().AddMassTransit(bus => bus.UsingInMemory()).BuildServiceProvider();

    private NpgsqlDataSource _database = null!;
    private PostgresRequestLedger _ledger = null!;

    protected override IRequestLedger Ledger => _ledger;

    protected override DateTimeOffset Now => DateTimeOffset.UtcNow;

    public async Task InitializeAsync()
    {
        var environment = await infrastructure.CreateEnvironmentAsync();
        _database = NpgsqlDataSource.Create(environment.Postgres);
        await PostgresSchema.EnsureCreatedAsync(_database, CancellationToken.None);
        _ledger = new PostgresRequestLedger(_database, new LauncherSignal(), new OutboxPublisher(UnstartedBus), new OutboxSignal(), NoCommitObserver.Instance);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Concurrent_takers_never_hold_more_slots_than_the_cap_and_take_the_oldest_first()
    {
        var commands = Enumerable.Range(0, 30).Select(i => GenerationHarness.ValidCommand() with { Prompt = $"job {i}" }).ToList();
        foreach (var command in commands)
        {
            await Ledger.AdmitAsync(command, null, null, CancellationToken.None);
        }

        var taken = new ConcurrentBag<PendingCreate>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            for (var i = 0; i < 10; i++)
            {
                if (await Ledger.TakeNextAsync(5, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), CancellationToken.None) is { } next)
                {
                    taken.Add(next);
                }
            }
        }));
        var firstFive = taken.Select(t => t.Command.Prompt).Order().ToList();
        await Ledger.RecordTaskAsync(commands[0].RequestId, taken.Single(t => t.Command.RequestId == commands[0].RequestId).Claim, "task-0", Announcement("task-0"), CancellationToken.None);
        var stillFull = await Ledger.TakeNextAsync(5, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), CancellationToken.None);
        await Ledger.RecordEndedAsync(commands[0].RequestId, null, CancellationToken.None);
        var afterRelease = await Ledger.TakeNextAsync(5, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), CancellationToken.None);

        Assert.Equal(commands.Take(5).Select(c => c.Prompt).Order(), firstFive);
        Assert.Null(stillFull);
        Assert.Equal("job 5", afterRelease?.Command.Prompt);
    }

    /// <summary>
    /// Versions before claim tokens claimed with a lease alone. Upgraded in place, such a claim becomes a claim like any
    /// other: it holds its slot while its holder may still be calling, and once it lapsed past the grace it is taken
    /// again as abandoned (a task may exist), never as a request nobody tried.
    /// </summary>
    [Fact]
    public async Task A_claim_an_older_version_made_with_a_lease_alone_holds_its_slot_and_is_taken_again_only_as_abandoned()
    {
        var command = GenerationHarness.ValidCommand();
        var other = GenerationHarness.ValidCommand();
        await Ledger.AdmitAsync(command, null, null, CancellationToken.None);
        await Ledger.AdmitAsync(other, null, null, CancellationToken.None);
        await using (var olderClaim = _database.CreateCommand(
            $"UPDATE {PostgresSchema.RequestLedger} SET lease_until = now() + interval '300 milliseconds' WHERE request_id = @request_id"))
        {
            olderClaim.Parameters.AddWithValue("request_id", command.RequestId);
            await olderClaim.ExecuteNonQueryAsync();
        }

        // This version starts.
        await PostgresSchema.EnsureCreatedAsync(_database, CancellationToken.None);
        var whileLeased = await Ledger.TakeNextAsync(1, TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(300), CancellationToken.None);
        var status = JobStatusView.From(command.RequestId, await Ledger.GetRecordAsync(command.RequestId, CancellationToken.None));
        await Task.Delay(TimeSpan.FromMilliseconds(700));
        var takeover = await Ledger.TakeNextAsync(1, TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(300), CancellationToken.None);

        Assert.Null(whileLeased);
        Assert.Equal(JobState.Creating, status.State);
        Assert.Equal(command.RequestId, takeover?.Command.RequestId);
        Assert.True(takeover?.Abandoned);
    }

    /// <summary>Each of <see cref="LedgerRules"/>, in SQL and in C#, picks the same rows out of every combination of facts.</summary>
    [Fact]
    public async Task The_ledger_rules_read_the_same_in_SQL_as_in_CSharp_for_every_combination_of_facts()
    {
        var now = DateTimeOffset.UtcNow;
        var grace = TimeSpan.FromMinutes(5);
        var facts = new Dictionary<Guid, RequestFacts>();
        await using (var insert = new NpgsqlBatch(await _database.OpenConnectionAsync()))
        {
            foreach (var request in EveryCombination(now))
            {
                var requestId = Guid.NewGuid();
                facts[requestId] = request;
                var row = new NpgsqlBatchCommand($"""
                    INSERT INTO {PostgresSchema.RequestLedger}
                        (request_id, task_id, claim_token, command, ended_at, task_finished_at, cancelled_at, not_before, start_by, lease_until)
                    VALUES (@request_id, @task_id, @claim_token, @command, @ended_at, @task_finished_at, @cancelled_at, @not_before, @start_by, @lease_until)
                    """);
                row.Parameters.AddWithValue("request_id", requestId);
                row.Parameters.Add(Nullable("task_id", NpgsqlTypes.NpgsqlDbType.Text, request.HasTask ? "task" : null));
                row.Parameters.Add(Nullable("claim_token", NpgsqlTypes.NpgsqlDbType.Uuid, request.HasClaim ? Guid.NewGuid() : null));
                row.Parameters.Add(Nullable("command", NpgsqlTypes.NpgsqlDbType.Text, request.HasCommand ? "{}" : null));
                row.Parameters.Add(Nullable("ended_at", NpgsqlTypes.NpgsqlDbType.TimestampTz, request.Ended ? now : null));
                row.Parameters.Add(Nullable("task_finished_at", NpgsqlTypes.NpgsqlDbType.TimestampTz, request.TaskFinished ? now : null));
                row.Parameters.Add(Nullable("cancelled_at", NpgsqlTypes.NpgsqlDbType.TimestampTz, request.Cancelled ? now : null));
                row.Parameters.AddWithValue("not_before", request.NotBefore);
                row.Parameters.Add(Nullable("start_by", NpgsqlTypes.NpgsqlDbType.TimestampTz, request.StartBy));
                row.Parameters.AddWithValue("lease_until", request.LeaseUntil);
                insert.BatchCommands.Add(row);
            }

            await insert.ExecuteNonQueryAsync();
            await insert.Connection!.DisposeAsync();
        }

        var rules = new (string Name, string Sql, Func<RequestFacts, bool> Predicate)[]
        {
            (nameof(LedgerRules.UncreatedSql), LedgerRules.UncreatedSql, LedgerRules.IsUncreated),
            (nameof(LedgerRules.QueuedSql), LedgerRules.QueuedSql, LedgerRules.IsQueued),
            (nameof(LedgerRules.DueSql), LedgerRules.DueSql, request => LedgerRules.IsDue(request, now)),
            (nameof(LedgerRules.AbandonedSql), LedgerRules.AbandonedSql, request => LedgerRules.IsAbandoned(request, now, grace)),
            (nameof(LedgerRules.HoldsSlotSql), LedgerRules.HoldsSlotSql, LedgerRules.HoldsSlot),
        };
        foreach (var (name, sql, predicate) in rules)
        {
            var selected = new HashSet<Guid>();
            await using var select = _database.CreateCommand($"SELECT request_id FROM {PostgresSchema.RequestLedger} WHERE {sql}");
            select.Parameters.AddWithValue("abandoned_after", grace);
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                selected.Add(reader.GetGuid(0));
            }

            var expected = facts.Where(pair => predicate(pair.Value)).Select(pair => pair.Key).ToHashSet();
            Assert.NotEmpty(expected);
            Assert.True(expected.Count < facts.Count, $"{name} picks every row: the combinations do not test it.");
            var disagreements = facts.Where(pair => selected.Contains(pair.Key) != expected.Contains(pair.Key)).Select(pair => pair.Value).ToList();
            Assert.True(disagreements.Count == 0, $"{name} disagrees with its predicate on {disagreements.Count} rows, e.g. {disagreements.FirstOrDefault()}.");
        }
    }

    protected override Task PassAsync(TimeSpan time) => Task.Delay(time);

    protected override async Task AssertAnnouncedAsync(string type, string containing, int expected)
    {
        await using var command = _database.CreateCommand($"""
            SELECT count(*) FROM {PostgresSchema.ScheduledMessages}
            WHERE message_type = 'urn:message:KlingService.Contracts:{type}' AND message_id = token_id AND body::text LIKE '%' || @containing || '%'
            """);
        command.Parameters.AddWithValue("containing", containing);
        Assert.Equal(expected, (long)(await command.ExecuteScalarAsync())!);
    }

    /// <summary>Every flag on and off, with each moment before, within a rule's margin of, or after <paramref name="now"/>.</summary>
    private static IEnumerable<RequestFacts> EveryCombination(DateTimeOffset now)
    {
        DateTimeOffset[] notBefores = [now.AddHours(-1), now.AddHours(1)];
        DateTimeOffset?[] startBys = [null, now.AddHours(-1), now.AddHours(1)];
        // Lapsed past the grace, lapsed within it, live.
        DateTimeOffset[] leases = [now.AddDays(-1), now.AddMinutes(-1), now.AddHours(1)];
        for (var flags = 0; flags < 64; flags++)
        {
            foreach (var notBefore in notBefores)
            {
                foreach (var startBy in startBys)
                {
                    foreach (var lease in leases)
                    {
                        yield return new RequestFacts(
                            (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0, (flags & 8) != 0, (flags & 16) != 0, (flags & 32) != 0,
                            notBefore, startBy, lease);
                    }
                }
            }
        }
    }

    private static NpgsqlParameter Nullable(string name, NpgsqlTypes.NpgsqlDbType type, object? value) => new(name, type) { Value = value ?? DBNull.Value };
}
