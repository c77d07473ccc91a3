using System.Text.Json;
using System.Text.Json.Serialization;
using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Outbox;
using KlingService.Scheduling;
using Npgsql;

namespace KlingService.Persistence;

/// <summary>
/// The durable ledger: one row per RequestId, shared by every instance. Admission is a single
/// insert that refuses a twin; slots are counted and handed out under one advisory lock, so two
/// instances can never together exceed the account's cap.
/// </summary>
public sealed class PostgresRequestLedger(NpgsqlDataSource dataSource, LauncherSignal signal, OutboxPublisher outbox, OutboxSignal dispatch)
    : IRequestLedger
{
    // An arbitrary constant: the advisory lock under which slots are counted and handed out.
    private const long SlotLock = 0x4B4C534C4F54;

    private const string Admit = $"""
        INSERT INTO {PostgresSchema.RequestLedger} (request_id, lease_until, command, trace_parent, start_by)
        VALUES (@request_id, '-infinity', @command, @trace_parent, @start_by)
        ON CONFLICT (request_id) DO NOTHING
        RETURNING true
        """;

    private const string Read = $"SELECT task_id, ended_at IS NOT NULL, cancelled_at IS NOT NULL FROM {PostgresSchema.RequestLedger} WHERE request_id = @request_id";

    // A plain read: a generating job's row is never locked by a status query. The queue position
    // counts the waiting requests ahead (the backlog index serves it).
    private const string ReadRecord = $"""
        SELECT l.task_id, l.claim_token IS NOT NULL OR l.lease_until > now(), l.created_at, l.submitted_at, l.ended_at, l.cancelled_at,
               l.provider_status, l.progress_percent, l.eta_seconds, l.outcome::text,
               CASE WHEN l.task_id IS NULL AND l.ended_at IS NULL AND l.command IS NOT NULL THEN
                   (SELECT count(*) FROM {PostgresSchema.RequestLedger} w
                    WHERE w.task_id IS NULL AND w.ended_at IS NULL AND w.command IS NOT NULL AND w.seq <= l.seq
                      AND w.claim_token IS NULL AND w.lease_until <= now() AND w.cancelled_at IS NULL)::integer
               END,
               l.start_by
        FROM {PostgresSchema.RequestLedger} l WHERE l.request_id = @request_id
        """;

    // statement_timestamp(), not now(): the transaction may have waited for the lock. An open claim
    // holds a slot until it is resolved, even once its lease lapsed: a create call may be under way.
    private const string TakeNext = $"""
        WITH busy AS (
            SELECT count(*) AS n FROM {PostgresSchema.RequestLedger}
            WHERE ended_at IS NULL AND task_finished_at IS NULL
              AND (task_id IS NOT NULL OR claim_token IS NOT NULL OR lease_until > statement_timestamp())),
        next AS (
            SELECT request_id, claim_token IS NOT NULL AS abandoned, cancelled_at IS NOT NULL AS cancelled FROM {PostgresSchema.RequestLedger}
            WHERE task_id IS NULL AND ended_at IS NULL AND command IS NOT NULL AND not_before <= statement_timestamp()
              -- A lease without a token is an older instance's claim: held until it lapses.
              AND ((claim_token IS NULL AND lease_until <= statement_timestamp() AND cancelled_at IS NULL AND (SELECT n FROM busy) < @slot_limit
                    AND (start_by IS NULL OR start_by > statement_timestamp()))
                OR (claim_token IS NOT NULL AND lease_until <= statement_timestamp() - @abandoned_after))
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
                TestFaultHook.AfterTaskRecorded();
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
              AND (l.claim_token = @claim OR (@claim::uuid IS NULL AND l.claim_token IS NULL AND l.lease_until <= now()))
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

    public ValueTask<IReadOnlyList<Guid>> EndAllWaitingAsync(
        DateTimeOffset admittedBefore, VideoFailureReason reason, string message, CancellationToken cancellationToken) =>
        EndWaitingAsync("created_at < @moment", admittedBefore, reason, message, cancellationToken);

    public ValueTask<IReadOnlyList<Guid>> EndPastStartByAsync(DateTimeOffset now, string message, CancellationToken cancellationToken) =>
        EndWaitingAsync("start_by <= @moment", now, VideoFailureReason.StartByPassed, message, cancellationToken);

    /// <summary>
    /// Ends the waiting requests (no task, no open claim, not cancelled) that <paramref name="which"/> selects, and
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
            WHERE task_id IS NULL AND ended_at IS NULL AND claim_token IS NULL AND command IS NOT NULL AND cancelled_at IS NULL
              AND lease_until <= now() AND {which}
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

    public async ValueTask<LedgerEntry?> FindAsync(Guid requestId, CancellationToken cancellationToken)
    {
        await using var read = dataSource.CreateCommand(Read);
        read.Parameters.AddWithValue("request_id", requestId);
        await using var row = await read.ExecuteReaderAsync(cancellationToken);
        return await row.ReadAsync(cancellationToken)
            ? new LedgerEntry(row.IsDBNull(0) ? null : row.GetString(0), row.GetBoolean(1), row.GetBoolean(2))
            : null;
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

    /// <summary>
    /// A cancel that overtook its command: an ended, cancelled row the command will find when it comes, with the answer
    /// in the outbox. False when the command was admitted meanwhile (the insert met its row).
    /// </summary>
    private async Task<bool> RememberCancelBeforeArrivalAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid requestId, Func<CancelEffect, VideoFailed> answer, CancellationToken cancellationToken)
    {
        var cancelled = answer(CancelEffect.CancelledBeforeArrival);
        await using (var insert = new NpgsqlCommand($"""
            INSERT INTO {PostgresSchema.RequestLedger} (request_id, lease_until, ended_at, cancelled_at, outcome)
            VALUES (@request_id, '-infinity', now(), now(), @outcome::jsonb)
            ON CONFLICT (request_id) DO NOTHING
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("request_id", requestId);
            insert.Parameters.AddWithValue("outcome", Serialize(JobOutcome.Of(cancelled)));
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                return false;
            }
        }

        await ScheduledMessageStore.AddDueNowAsync(connection, transaction, outbox.Row(cancelled), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        dispatch.Poke();
        return true;
    }

    public async ValueTask<(CancelEffect Effect, string? TaskId)> CancelAsync(
        Guid requestId, Func<CancelEffect, VideoFailed> answer, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        CancelEffect effect;
        string? taskId;
        await using (var read = new NpgsqlCommand($"""
            -- A task that finished is past cancelling: its video is being stored and will be delivered.
            SELECT task_id, ended_at IS NOT NULL OR cancelled_at IS NOT NULL OR task_finished_at IS NOT NULL,
                   claim_token IS NOT NULL OR lease_until > now()
            FROM {PostgresSchema.RequestLedger} WHERE request_id = @request_id FOR UPDATE
            """, connection, transaction))
        {
            read.Parameters.AddWithValue("request_id", requestId);
            await using var row = await read.ExecuteReaderAsync(cancellationToken);
            if (!await row.ReadAsync(cancellationToken))
            {
                await row.DisposeAsync();
                return await RememberCancelBeforeArrivalAsync(connection, transaction, requestId, answer, cancellationToken)
                    ? (CancelEffect.CancelledBeforeArrival, null)
                    // Its command was admitted in the meantime: cancel that.
                    : await CancelAsync(requestId, answer, cancellationToken);
            }

            if (row.GetBoolean(1))
            {
                return (CancelEffect.None, null);
            }

            taskId = row.IsDBNull(0) ? null : row.GetString(0);
            effect = taskId is not null ? CancelEffect.CancelledWhileGenerating
                : row.GetBoolean(2) ? CancelEffect.CancelledWhileCreating
                : CancelEffect.EndedWaiting;
        }

        // A waiting request ends; one whose task exists (or may) keeps its slot until the provider is done.
        await using (var cancel = new NpgsqlCommand($"""
            UPDATE {PostgresSchema.RequestLedger}
            SET cancelled_at = now(), outcome = @outcome::jsonb,
                ended_at = CASE WHEN @ends THEN now() ELSE ended_at END,
                command = CASE WHEN @ends THEN NULL ELSE command END
            WHERE request_id = @request_id
            """, connection, transaction))
        {
            cancel.Parameters.AddWithValue("request_id", requestId);
            cancel.Parameters.AddWithValue("outcome", Serialize(JobOutcome.Of(answer(effect) with { TaskId = taskId })));
            cancel.Parameters.AddWithValue("ends", effect == CancelEffect.EndedWaiting);
            await cancel.ExecuteNonQueryAsync(cancellationToken);
        }

        // The cancel, the job's silencing and the client's answer commit together.
        if (taskId is not null)
        {
            await ScheduledMessageStore.AddDueNowAsync(connection, transaction, outbox.Row(new SilenceVideoJob(TaskCorrelation.FromTaskId(taskId))), cancellationToken);
        }

        await ScheduledMessageStore.AddDueNowAsync(connection, transaction, outbox.Row(answer(effect) with { TaskId = taskId }), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        dispatch.Poke();
        signal.Pulse();
        return (effect, taskId);
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
