using System.Text.Json;
using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Scheduling;
using Npgsql;

namespace KlingService.Persistence;

/// <summary>The durable ledger's job records: ends, the provider's reports and the status query.</summary>
public sealed partial class PostgresRequestLedger
{
    // A plain read: a generating job's row is never locked by a status query. The queue position
    // counts the queued requests ahead (the backlog index serves it). Unqualified, the rules read l outside the count, w inside.
    private const string ReadRecord = $"""
        SELECT l.task_id, l.claim_token IS NOT NULL, l.created_at, l.submitted_at, l.ended_at, l.cancelled_at,
               l.provider_status, l.progress_percent, l.eta_seconds, l.outcome::text,
               CASE WHEN {LedgerRules.UncreatedSql} THEN
                   (SELECT count(*) FROM {PostgresSchema.RequestLedger} w WHERE {LedgerRules.QueuedSql} AND w.seq <= l.seq)::integer
               END,
               l.start_by
        FROM {PostgresSchema.RequestLedger} l WHERE l.request_id = @request_id
        """;

    public ValueTask<IReadOnlyList<Guid>> EndAllWaitingAsync(
        DateTimeOffset admittedBefore, VideoFailureReason reason, string message, CancellationToken cancellationToken) =>
        EndWaitingAsync("created_at < @moment", admittedBefore, reason, message, cancellationToken);

    public ValueTask<IReadOnlyList<Guid>> EndPastStartByAsync(DateTimeOffset now, string message, CancellationToken cancellationToken) =>
        EndWaitingAsync("start_by <= @moment", now, VideoFailureReason.StartByPassed, message, cancellationToken);

    /// <summary>
    /// Ends the queued requests (no task, no open claim, not cancelled) that <paramref name="which"/> selects, and
    /// answers each in the same transaction.
    /// </summary>
    private async ValueTask<IReadOnlyList<Guid>> EndWaitingAsync(
        string which, DateTimeOffset moment, VideoFailureReason reason, string message, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var ended = new List<Guid>();
        await using (var command = new NpgsqlCommand($"""
            UPDATE {PostgresSchema.RequestLedger} SET ended_at = now(), command = NULL, lease_until = '-infinity',
                outcome = jsonb_build_object('failed', jsonb_build_object('requestId', request_id, 'taskId', NULL, 'reason', @reason, 'message', @message))
            WHERE {LedgerRules.QueuedSql} AND {which}
            RETURNING request_id
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("moment", moment);
            command.Parameters.AddWithValue("reason", reason.ToString());
            command.Parameters.AddWithValue("message", message);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ended.Add(reader.GetGuid(0));
            }
        }

        foreach (var requestId in ended)
        {
            await ScheduledMessageStore.AddDueNowAsync(connection, transaction, outbox.Row(new VideoFailed(requestId, null, reason, message)), cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        if (ended.Count > 0)
        {
            dispatch.Poke();
            signal.Pulse();
        }

        return ended;
    }

    public async ValueTask<JobOutcome?> RecordEndedAsync(Guid requestId, JobOutcome? outcome, CancellationToken cancellationToken)
    {
        // Under the row's lock, so a cancel is either before (the client has its answer: null) or finds the job ended.
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO {PostgresSchema.RequestLedger} AS l (request_id, lease_until, ended_at, outcome) VALUES (@request_id, '-infinity', now(), @outcome::jsonb)
            ON CONFLICT (request_id) DO UPDATE SET ended_at = coalesce(l.ended_at, now()), command = NULL,
                outcome = coalesce(l.outcome, EXCLUDED.outcome)
            RETURNING CASE WHEN l.cancelled_at IS NULL THEN l.outcome::text END
            """);
        command.Parameters.AddWithValue("request_id", requestId);
        command.Parameters.Add(new NpgsqlParameter("outcome", NpgsqlTypes.NpgsqlDbType.Text) { Value = outcome is null ? DBNull.Value : Serialize(outcome) });
        var stored = await command.ExecuteScalarAsync(cancellationToken) as string;
        signal.Pulse();
        return stored is null ? null : JsonSerializer.Deserialize<JobOutcome>(stored, Json);
    }

    public async ValueTask RecordTaskFinishedAsync(Guid requestId, string? status, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            UPDATE {PostgresSchema.RequestLedger}
            SET provider_status = @status, progress_percent = 100, eta_seconds = NULL, task_finished_at = now()
            WHERE request_id = @request_id AND ended_at IS NULL AND task_finished_at IS NULL
            """);
        command.Parameters.AddWithValue("request_id", requestId);
        command.Parameters.Add(new NpgsqlParameter("status", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)status ?? DBNull.Value });
        if (await command.ExecuteNonQueryAsync(cancellationToken) > 0)
        {
            signal.Pulse();
        }
    }

    public async ValueTask<bool> RecordProgressAsync(Guid requestId, string? status, int? progressPercent, int? etaSeconds, CancellationToken cancellationToken)
    {
        // A late check never overwrites the final status the finished task recorded.
        await using var command = dataSource.CreateCommand($"""
            UPDATE {PostgresSchema.RequestLedger} SET provider_status = @status, progress_percent = @progress, eta_seconds = @eta
            WHERE request_id = @request_id AND ended_at IS NULL AND task_finished_at IS NULL
            RETURNING cancelled_at IS NOT NULL
            """);
        command.Parameters.AddWithValue("request_id", requestId);
        command.Parameters.Add(new NpgsqlParameter("status", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)status ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("progress", NpgsqlTypes.NpgsqlDbType.Integer) { Value = (object?)progressPercent ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("eta", NpgsqlTypes.NpgsqlDbType.Integer) { Value = (object?)etaSeconds ?? DBNull.Value });
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    public async ValueTask<JobRecord?> GetRecordAsync(Guid requestId, CancellationToken cancellationToken)
    {
        await using var read = dataSource.CreateCommand(ReadRecord);
        read.Parameters.AddWithValue("request_id", requestId);
        await using var row = await read.ExecuteReaderAsync(cancellationToken);
        if (!await row.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new JobRecord(
            requestId,
            row.IsDBNull(0) ? null : row.GetString(0),
            row.GetBoolean(1),
            row.GetFieldValue<DateTimeOffset>(2),
            row.IsDBNull(3) ? null : row.GetFieldValue<DateTimeOffset>(3),
            row.IsDBNull(4) ? null : row.GetFieldValue<DateTimeOffset>(4),
            row.IsDBNull(5) ? null : row.GetFieldValue<DateTimeOffset>(5),
            row.IsDBNull(6) ? null : row.GetString(6),
            row.IsDBNull(7) ? null : row.GetInt32(7),
            row.IsDBNull(8) ? null : row.GetInt32(8),
            row.IsDBNull(10) ? null : row.GetInt32(10),
            row.IsDBNull(9) ? null : JsonSerializer.Deserialize<JobOutcome>(row.GetString(9), Json),
            row.IsDBNull(11) ? null : row.GetFieldValue<DateTimeOffset>(11));
    }
}
