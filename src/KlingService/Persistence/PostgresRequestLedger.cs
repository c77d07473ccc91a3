using System.Text.Json;
using System.Text.Json.Serialization;
using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Outbox;
using Npgsql;

namespace KlingService.Persistence;

/// <summary>
/// The durable ledger: one row per RequestId, shared by every instance. Admission is a single
/// insert that refuses a twin; slots are counted and handed out under one advisory lock, so two
/// instances can never together exceed the account's cap. This part admits and rejects requests, answers what is known
/// of one and deletes old records; the claims, the job records and cancels are the other parts. Which request holds a slot and which is next are
/// <see cref="LedgerRules"/>, shared with the in-memory ledger.
/// </summary>
public sealed partial class PostgresRequestLedger(
    NpgsqlDataSource dataSource, LauncherSignal signal, OutboxPublisher outbox, OutboxSignal dispatch, ICommitObserver commits)
    : IRequestLedger
{
    private const string Admit = $"""
        INSERT INTO {PostgresSchema.RequestLedger} (request_id, lease_until, command, trace_parent, start_by)
        VALUES (@request_id, '-infinity', @command, @trace_parent, @start_by)
        ON CONFLICT (request_id) DO NOTHING
        RETURNING true
        """;

    private const string Read = $"SELECT task_id, ended_at IS NOT NULL, cancelled_at IS NOT NULL FROM {PostgresSchema.RequestLedger} WHERE request_id = @request_id";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public async ValueTask<Admission> AdmitAsync(GenerateVideo command, string? traceParent, DateTimeOffset? startBy, CancellationToken cancellationToken)
    {
        await using var admit = dataSource.CreateCommand(Admit);
        admit.Parameters.AddWithValue("request_id", command.RequestId);
        admit.Parameters.AddWithValue("command", JsonSerializer.Serialize(command, Json));
        admit.Parameters.AddWithValue("trace_parent", (object?)traceParent ?? DBNull.Value);
        admit.Parameters.Add(new NpgsqlParameter("start_by", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = (object?)startBy ?? DBNull.Value });
        if (await admit.ExecuteScalarAsync(cancellationToken) is true)
        {
            signal.Pulse();
            return Admission.Admitted;
        }

        await using var read = dataSource.CreateCommand(Read);
        read.Parameters.AddWithValue("request_id", command.RequestId);
        await using var row = await read.ExecuteReaderAsync(cancellationToken);
        if (!await row.ReadAsync(cancellationToken))
        {
            // Deleted between the two statements: only an operator does that. The command stays
            // unacknowledged (the caller retries), so it is not lost.
            throw new InvalidOperationException($"Request {command.RequestId} vanished from the ledger while being admitted.");
        }

        // A cancelled request is over for its client: a repeat gets the answer again.
        return row.GetBoolean(1) || row.GetBoolean(2) ? Admission.Ended
            : row.IsDBNull(0) ? Admission.Waiting
            : Admission.Submitted(row.GetString(0));
    }

    /// <summary>Every announcement commits with the write it announces, as an outbox row the dispatcher sends.</summary>
    public bool AnnouncesInTransaction => true;

    public async ValueTask<bool> RecordRejectedAsync(VideoFailed answer, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO {PostgresSchema.RequestLedger} (request_id, lease_until, ended_at, outcome) VALUES (@request_id, '-infinity', now(), @outcome::jsonb)
            ON CONFLICT (request_id) DO NOTHING
            RETURNING true
            """);
        command.Parameters.AddWithValue("request_id", answer.RequestId);
        command.Parameters.AddWithValue("outcome", Serialize(JobOutcome.Of(answer)));
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    public async ValueTask<LedgerEntry?> FindAsync(Guid requestId, CancellationToken cancellationToken)
    {
        await using var read = dataSource.CreateCommand(Read);
        read.Parameters.AddWithValue("request_id", requestId);
        await using var row = await read.ExecuteReaderAsync(cancellationToken);
        return await row.ReadAsync(cancellationToken)
            ? new LedgerEntry(row.IsDBNull(0) ? null : row.GetString(0), row.GetBoolean(1), row.GetBoolean(2))
            : null;
    }

    public async ValueTask<int> DeleteEndedBeforeAsync(DateTimeOffset endedBefore, CancellationToken cancellationToken)
    {
        // In bounded batches, so a first run after long downtime does not hold one huge delete; rows
        // that record a duplicate charge stay for reconciliation.
        var deleted = 0;
        while (true)
        {
            await using var command = dataSource.CreateCommand($"""
                DELETE FROM {PostgresSchema.RequestLedger} WHERE request_id IN (
                    SELECT request_id FROM {PostgresSchema.RequestLedger}
                    WHERE ended_at < @ended_before AND cardinality(orphan_task_ids) = 0
                    LIMIT 5000)
                """);
            command.Parameters.AddWithValue("ended_before", endedBefore);
            var batch = await command.ExecuteNonQueryAsync(cancellationToken);
            deleted += batch;
            if (batch < 5000)
            {
                return deleted;
            }
        }
    }

    private static string Serialize(JobOutcome outcome) => JsonSerializer.Serialize(outcome, Json);
}
