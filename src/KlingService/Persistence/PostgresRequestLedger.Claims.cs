using System.Text.Json;
using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Scheduling;
using Npgsql;

namespace KlingService.Persistence;

/// <summary>The durable ledger's claims: handing out slots, and settling each create attempt under its token.</summary>
public sealed partial class PostgresRequestLedger
{
    // An arbitrary constant: the advisory lock under which slots are counted and handed out.
    private const long SlotLock = 0x4B4C534C4F54;

    // statement_timestamp(), not now(): the transaction may have waited for the lock. The rules are LedgerRules'; the
    // backlog's own conditions lead, so its index serves the search.
    private const string TakeNext = $"""
        WITH busy AS (
            SELECT count(*) AS n FROM {PostgresSchema.RequestLedger} WHERE {LedgerRules.HoldsSlotSql}),
        next AS (
            SELECT request_id, claim_token IS NOT NULL AS abandoned, cancelled_at IS NOT NULL AS cancelled FROM {PostgresSchema.RequestLedger}
            WHERE {LedgerRules.UncreatedSql}
              AND (({LedgerRules.DueSql} AND (SELECT n FROM busy) < @slot_limit) OR ({LedgerRules.AbandonedSql}))
            ORDER BY seq
            LIMIT 1)
        UPDATE {PostgresSchema.RequestLedger} l SET lease_until = statement_timestamp() + @lease, claim_token = @claim
        FROM next WHERE l.request_id = next.request_id
          -- Checked again: a cancel does not take the slot lock and may have ended the row meanwhile.
          AND l.task_id IS NULL AND l.ended_at IS NULL AND l.command IS NOT NULL
        RETURNING l.command, l.failed_attempts, l.trace_parent, l.created_at, next.abandoned, next.cancelled
        """;

    private const string RecordTaskUnderClaim = $"""
        UPDATE {PostgresSchema.RequestLedger}
        SET task_id = @task_id, submitted_at = now(), claim_token = NULL, lease_until = '-infinity',
            mode = command::jsonb->>'mode', duration_seconds = (command::jsonb->>'durationSeconds')::integer, command = NULL
        WHERE request_id = @request_id AND task_id IS NULL AND ended_at IS NULL AND claim_token = @claim
        RETURNING cancelled_at IS NOT NULL
        """;

    // The claim was lost, but a task that has no rival is still the request's task.
    private const string RecordTaskWithoutClaim = $"""
        UPDATE {PostgresSchema.RequestLedger}
        SET task_id = @task_id, submitted_at = now(), claim_token = NULL, lease_until = '-infinity',
            mode = command::jsonb->>'mode', duration_seconds = (command::jsonb->>'durationSeconds')::integer, command = NULL
        WHERE request_id = @request_id AND task_id IS NULL AND ended_at IS NULL
        RETURNING cancelled_at IS NOT NULL
        """;

    public async ValueTask<PendingCreate?> TakeNextAsync(int slotLimit, TimeSpan lease, TimeSpan abandonedAfter, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockSlots = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({SlotLock})", connection, transaction))
        {
            await lockSlots.ExecuteNonQueryAsync(cancellationToken);
        }

        PendingCreate? next = null;
        var claim = Guid.NewGuid();
        await using (var take = new NpgsqlCommand(TakeNext, connection, transaction))
        {
            take.Parameters.AddWithValue("slot_limit", (long)slotLimit);
            take.Parameters.AddWithValue("lease", lease);
            take.Parameters.AddWithValue("abandoned_after", abandonedAfter);
            take.Parameters.AddWithValue("claim", claim);
            await using var row = await take.ExecuteReaderAsync(cancellationToken);
            if (await row.ReadAsync(cancellationToken))
            {
                next = new PendingCreate(
                    JsonSerializer.Deserialize<GenerateVideo>(row.GetString(0), Json)!,
                    row.GetInt32(1),
                    row.IsDBNull(2) ? null : row.GetString(2),
                    row.GetFieldValue<DateTimeOffset>(3),
                    claim,
                    row.GetBoolean(4),
                    row.GetBoolean(5));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return next;
    }

    public async ValueTask<bool> RenewAsync(Guid requestId, Guid claim, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            UPDATE {PostgresSchema.RequestLedger} SET lease_until = now() + @lease
            WHERE request_id = @request_id AND claim_token = @claim AND task_id IS NULL AND ended_at IS NULL
            RETURNING true
            """);
        command.Parameters.AddWithValue("request_id", requestId);
        command.Parameters.AddWithValue("claim", claim);
        command.Parameters.AddWithValue("lease", lease);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    /// <summary>
    /// Records a task that has just been paid for. The command (with its image) is dropped: the task
    /// exists, and only its settings are kept. One attempt: the launcher keeps trying as long as it lives.
    /// </summary>
    public async ValueTask<(TaskRecording Outcome, string? ExistingTaskId)> RecordTaskAsync(
        Guid requestId, Guid claim, string taskId, VideoGenerationSubmitted announcement, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var (sql, outcome) in new[] { (RecordTaskUnderClaim, TaskRecording.Recorded), (RecordTaskWithoutClaim, TaskRecording.RecordedAfterClaimLost) })
        {
            await using var record = new NpgsqlCommand(sql, connection, transaction);
            record.Parameters.AddWithValue("request_id", requestId);
            record.Parameters.AddWithValue("claim", claim);
            record.Parameters.AddWithValue("task_id", taskId);
            if (await record.ExecuteScalarAsync(cancellationToken) is bool cancelled)
            {
                // The task and its announcement commit together: a recorded task is always tracked. A
                // request its client cancelled meanwhile tells only its job, not every subscriber.
                var row = cancelled ? outbox.SendRow(announcement, VideoJobStateMachineDefinition.Address) : outbox.Row(announcement);
                await ScheduledMessageStore.AddDueNowAsync(connection, transaction, row, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                commits.TaskRecorded();
                dispatch.Poke();
                signal.Pulse();
                return (outcome, null);
            }
        }

        // Kept on the request's row for reconciliation with the provider's bill.
        await using var keep = new NpgsqlCommand($"""
            UPDATE {PostgresSchema.RequestLedger}
            SET orphan_task_ids = CASE WHEN task_id = @task_id OR @task_id = ANY(orphan_task_ids) THEN orphan_task_ids
                                       ELSE array_append(orphan_task_ids, @task_id) END
            WHERE request_id = @request_id
            RETURNING task_id
            """, connection, transaction);
        keep.Parameters.AddWithValue("request_id", requestId);
        keep.Parameters.AddWithValue("task_id", taskId);
        var existing = await keep.ExecuteScalarAsync(cancellationToken) as string;
        await transaction.CommitAsync(cancellationToken);
        if (existing == taskId)
        {
            return (TaskRecording.Recorded, null);
        }

        return existing is not null ? (TaskRecording.Duplicate, existing) : (TaskRecording.AfterEnd, null);
    }

    public async ValueTask<bool> PostponeAsync(Guid requestId, Guid claim, TimeSpan delay, bool failedAttempt, CancellationToken cancellationToken)
    {
        // A request its client cancelled while this attempt ran ends here (it was answered already): no new task for it.
        await using var command = dataSource.CreateCommand($"""
            UPDATE {PostgresSchema.RequestLedger}
            SET lease_until = '-infinity', claim_token = NULL, not_before = now() + @delay, failed_attempts = failed_attempts + @failed,
                ended_at = CASE WHEN cancelled_at IS NOT NULL THEN now() END,
                command = CASE WHEN cancelled_at IS NOT NULL THEN NULL ELSE command END
            WHERE request_id = @request_id AND claim_token = @claim AND task_id IS NULL AND ended_at IS NULL
            RETURNING true
            """);
        command.Parameters.AddWithValue("request_id", requestId);
        command.Parameters.AddWithValue("claim", claim);
        command.Parameters.AddWithValue("delay", delay);
        command.Parameters.AddWithValue("failed", failedAttempt ? 1 : 0);
        var postponed = await command.ExecuteScalarAsync(cancellationToken) is true;
        signal.Pulse();
        return postponed;
    }

    public async ValueTask<bool> EndWithoutTaskAsync(Guid requestId, Guid? claim, VideoFailed answer, CancellationToken cancellationToken)
    {
        // A request never admitted (its command failed before) is recorded as ended, so repeats get the answer again.
        // A cancelled request keeps the answer its client already had, and is not announced twice.
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"""
            INSERT INTO {PostgresSchema.RequestLedger} AS l (request_id, lease_until, ended_at, outcome) VALUES (@request_id, '-infinity', now(), @outcome::jsonb)
            ON CONFLICT (request_id) DO UPDATE SET ended_at = now(), command = NULL, claim_token = NULL, lease_until = '-infinity',
                outcome = coalesce(l.outcome, EXCLUDED.outcome)
            WHERE l.task_id IS NULL AND l.ended_at IS NULL
              AND (l.claim_token = @claim OR (@claim::uuid IS NULL AND l.claim_token IS NULL))
            RETURNING l.cancelled_at IS NULL
            """, connection, transaction);
        command.Parameters.AddWithValue("request_id", requestId);
        command.Parameters.AddWithValue("outcome", Serialize(JobOutcome.Of(answer)));
        command.Parameters.Add(new NpgsqlParameter("claim", NpgsqlTypes.NpgsqlDbType.Uuid) { Value = (object?)claim ?? DBNull.Value });
        var answered = await command.ExecuteScalarAsync(cancellationToken) is true;
        if (answered)
        {
            // The end and its answer commit together.
            await ScheduledMessageStore.AddDueNowAsync(connection, transaction, outbox.Row(answer), cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        if (answered)
        {
            dispatch.Poke();
        }

        signal.Pulse();
        return answered;
    }
}
