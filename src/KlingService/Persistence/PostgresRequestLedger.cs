using System.Text.Json;
using System.Text.Json.Serialization;
using KlingService.Contracts;
using KlingService.Generation;
using Npgsql;

namespace KlingService.Persistence;

/// <summary>
/// The durable ledger: one row per RequestId, shared by every instance. Admission is a single
/// insert that refuses a twin; slots are counted and handed out under one advisory lock, so two
/// instances can never together exceed the account's cap.
/// </summary>
public sealed class PostgresRequestLedger(NpgsqlDataSource dataSource, LauncherSignal signal) : IRequestLedger
{
    // An arbitrary constant: the advisory lock under which slots are counted and handed out.
    private const long SlotLock = 0x4B4C534C4F54;

    // About two minutes of a database restart, at most 5 s apart.
    private const int RecordTaskAttempts = 30;

    private const string Admit = $"""
        INSERT INTO {PostgresSchema.RequestLedger} (request_id, lease_until, command, trace_parent)
        VALUES (@request_id, '-infinity', @command, @trace_parent)
        ON CONFLICT (request_id) DO NOTHING
        RETURNING true
        """;

    private const string Read = $"SELECT task_id, ended_at IS NOT NULL FROM {PostgresSchema.RequestLedger} WHERE request_id = @request_id";

    // statement_timestamp(), not now(): the transaction may have waited for the lock.
    private const string TakeNext = $"""
        WITH busy AS (
            SELECT count(*) AS n FROM {PostgresSchema.RequestLedger}
            WHERE ended_at IS NULL AND (task_id IS NOT NULL OR lease_until > statement_timestamp())),
        next AS (
            SELECT request_id FROM {PostgresSchema.RequestLedger}
            WHERE task_id IS NULL AND ended_at IS NULL AND command IS NOT NULL
              AND lease_until <= statement_timestamp() AND not_before <= statement_timestamp()
              AND (SELECT n FROM busy) < @slot_limit
            ORDER BY seq
            LIMIT 1)
        UPDATE {PostgresSchema.RequestLedger} l SET lease_until = statement_timestamp() + @lease
        FROM next WHERE l.request_id = next.request_id
        RETURNING l.command, l.failed_attempts, l.trace_parent, l.created_at
        """;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public async ValueTask<Admission> AdmitAsync(GenerateVideo command, string? traceParent, CancellationToken cancellationToken)
    {
        await using var admit = dataSource.CreateCommand(Admit);
        admit.Parameters.AddWithValue("request_id", command.RequestId);
        admit.Parameters.AddWithValue("command", JsonSerializer.Serialize(command, Json));
        admit.Parameters.AddWithValue("trace_parent", (object?)traceParent ?? DBNull.Value);
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

        return row.GetBoolean(1) ? Admission.Ended
            : row.IsDBNull(0) ? Admission.Waiting
            : Admission.Submitted(row.GetString(0));
    }

    public async ValueTask<bool> RecordRejectedAsync(Guid requestId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO {PostgresSchema.RequestLedger} (request_id, lease_until, ended_at) VALUES (@request_id, '-infinity', now())
            ON CONFLICT (request_id) DO NOTHING
            RETURNING true
            """);
        command.Parameters.AddWithValue("request_id", requestId);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    public async ValueTask<PendingCreate?> TakeNextAsync(int slotLimit, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockSlots = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({SlotLock})", connection, transaction))
        {
            await lockSlots.ExecuteNonQueryAsync(cancellationToken);
        }

        PendingCreate? next = null;
        await using (var take = new NpgsqlCommand(TakeNext, connection, transaction))
        {
            take.Parameters.AddWithValue("slot_limit", (long)slotLimit);
            take.Parameters.AddWithValue("lease", lease);
            await using var row = await take.ExecuteReaderAsync(cancellationToken);
            if (await row.ReadAsync(cancellationToken))
            {
                next = new PendingCreate(
                    JsonSerializer.Deserialize<GenerateVideo>(row.GetString(0), Json)!,
                    row.GetInt32(1),
                    row.IsDBNull(2) ? null : row.GetString(2),
                    row.GetFieldValue<DateTimeOffset>(3));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return next;
    }

    /// <summary>
    /// Records a task that has just been paid for. The database may be briefly away; losing the id
    /// now would mean creating the task again later, so this write keeps trying for a while.
    /// The command (with its image) is dropped: the task exists, and only its settings are kept.
    /// </summary>
    public async ValueTask RecordTaskAsync(Guid requestId, string taskId, CancellationToken cancellationToken)
    {
        var wait = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var command = dataSource.CreateCommand($"""
                    UPDATE {PostgresSchema.RequestLedger}
                    SET task_id = @task_id, submitted_at = now(),
                        mode = command::jsonb->>'mode', duration_seconds = (command::jsonb->>'durationSeconds')::integer, command = NULL
                    WHERE request_id = @request_id
                    """);
                command.Parameters.AddWithValue("request_id", requestId);
                command.Parameters.AddWithValue("task_id", taskId);
                await command.ExecuteNonQueryAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException e) when (e.IsTransient && attempt < RecordTaskAttempts)
            {
                await Task.Delay(wait, cancellationToken);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    public async ValueTask PostponeAsync(Guid requestId, TimeSpan delay, bool failedAttempt, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            UPDATE {PostgresSchema.RequestLedger}
            SET lease_until = '-infinity', not_before = now() + @delay, failed_attempts = failed_attempts + @failed
            WHERE request_id = @request_id AND task_id IS NULL
            """);
        command.Parameters.AddWithValue("request_id", requestId);
        command.Parameters.AddWithValue("delay", delay);
        command.Parameters.AddWithValue("failed", failedAttempt ? 1 : 0);
        await command.ExecuteNonQueryAsync(cancellationToken);
        signal.Pulse();
    }

    public async ValueTask RecordEndedAsync(Guid requestId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO {PostgresSchema.RequestLedger} (request_id, lease_until, ended_at) VALUES (@request_id, '-infinity', now())
            ON CONFLICT (request_id) DO UPDATE SET ended_at = coalesce({PostgresSchema.RequestLedger}.ended_at, now()), command = NULL
            """);
        command.Parameters.AddWithValue("request_id", requestId);
        await command.ExecuteNonQueryAsync(cancellationToken);
        signal.Pulse();
    }
}
