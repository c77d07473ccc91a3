using KlingService.Outbox;
using KlingService.Persistence;
using MassTransit;
using Npgsql;

namespace KlingService.Scheduling;

/// <summary>The table of messages waiting for their time. Rows are claimed with SKIP LOCKED, so each is sent by one instance.</summary>
public sealed class ScheduledMessageStore(NpgsqlDataSource dataSource, IConfiguration? configuration = null)
{
    private readonly ScheduledDispatchOptions _options = ScheduledDispatchOptions.From(configuration);

    public ScheduledDispatchOptions Options => _options;

    // A schedule under its token: a repeat of the token (a redelivered ScheduleMessage, a saga's
    // re-arm) replaces the row.
    private const string Upsert = $"""
        INSERT INTO {PostgresSchema.ScheduledMessages} (token_id, due_at, destination, message_type, body, headers, message_id)
        VALUES (@token_id, @due_at, @destination, @message_type, @body::jsonb, @headers::jsonb, @message_id)
        ON CONFLICT (token_id) DO UPDATE SET due_at = EXCLUDED.due_at, destination = EXCLUDED.destination,
            message_type = EXCLUDED.message_type, body = EXCLUDED.body, headers = EXCLUDED.headers,
            message_id = EXCLUDED.message_id, attempts = 0, last_error = NULL
        """;

    // An outbox row: due as soon as the transaction that writes it commits; seq keeps the order.
    private const string InsertDueNow = $"""
        INSERT INTO {PostgresSchema.ScheduledMessages} (token_id, due_at, destination, message_type, body, headers, message_id)
        VALUES (@token_id, now(), @destination, @message_type, @body::jsonb, @headers::jsonb, @message_id)
        """;

    // Also a row set aside: whoever scheduled it no longer wants it. Two statements, as a batch
    // command holds one.
    private const string Forget = $"DELETE FROM {PostgresSchema.ScheduledMessages} WHERE token_id = @token_id";
    private const string ForgetSetAside = $"DELETE FROM {PostgresSchema.ScheduledMessagesDead} WHERE token_id = @token_id";

    /// <summary>
    /// Writes one outbox entry (a schedule, a message due now, or a forgotten schedule) in the
    /// caller's transaction, so it commits with the state it belongs to, or not at all.
    /// </summary>
    public static async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, OutboxEntry entry, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var command in Commands(entry))
        {
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The statements that write one outbox entry, for a batch: a saga's rows go to the server in
    /// one round trip with its new state (see <see cref="Persistence.SagaSession.WriteOutboxAsync"/>).
    /// </summary>
    public static IEnumerable<NpgsqlBatchCommand> Commands(OutboxEntry entry)
    {
        switch (entry)
        {
            case OutboxEntry.Scheduled(var row):
                yield return Bound(new NpgsqlBatchCommand(Upsert), row);
                break;
            case OutboxEntry.DueNow(var row):
                yield return Bound(new NpgsqlBatchCommand(InsertDueNow), row);
                break;
            case OutboxEntry.Cancelled(var tokenId):
                foreach (var sql in new[] { Forget, ForgetSetAside })
                {
                    var command = new NpgsqlBatchCommand(sql);
                    command.Parameters.AddWithValue("token_id", tokenId);
                    yield return command;
                }

                break;
            default:
                throw new InvalidOperationException($"Unknown outbox entry {entry}.");
        }
    }

    /// <summary>Writes an announcement in the caller's transaction, due when it commits.</summary>
    public static Task AddDueNowAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ScheduledMessageRow row, CancellationToken cancellationToken) =>
        WriteAsync(connection, transaction, new OutboxEntry.DueNow(row), cancellationToken);

    public async Task SaveAsync(ScheduledMessageRow row, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Upsert);
        // The MessageId the scheduled message is sent with, on every attempt.
        Bind(command.Parameters, row with { MessageId = row.MessageId ?? NewId.NextGuid() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Forgets a message, also one set aside: whoever scheduled it no longer wants it.</summary>
    public async Task CancelAsync(Guid tokenId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection);
        foreach (var command in Commands(new OutboxEntry.Cancelled(tokenId)))
        {
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    private static NpgsqlBatchCommand Bound(NpgsqlBatchCommand command, ScheduledMessageRow row)
    {
        Bind(command.Parameters, row);
        return command;
    }

    private static void Bind(NpgsqlParameterCollection parameters, ScheduledMessageRow row)
    {
        parameters.AddWithValue("token_id", row.TokenId);
        parameters.AddWithValue("due_at", row.DueAt);
        parameters.AddWithValue("destination", row.Destination.ToString());
        parameters.AddWithValue("message_type", row.MessageType);
        parameters.AddWithValue("body", row.Body);
        parameters.AddWithValue("headers", row.Headers);
        parameters.AddWithValue("message_id", (object?)row.MessageId ?? DBNull.Value);
    }

    /// <summary>How many messages are set aside, waiting for an operator.</summary>
    public async Task<long> CountSetAsideAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT count(*) FROM {PostgresSchema.ScheduledMessagesDead}");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Claims up to <paramref name="batchSize"/> due messages, oldest first, hands each to
    /// <paramref name="send"/>, and in the same transaction deletes those sent: a crash before the
    /// commit leaves them to be sent again (at least once), never lost. Each row stands alone: one
    /// that fails is only delayed (1 s, 2 s, 4 s … up to the cap) and, after
    /// <see cref="ScheduledDispatchOptions.MaxAttempts"/> failures of its own, set aside, while the
    /// rows sent with it are committed. A failure that may be the broker's
    /// (<see cref="ScheduledDispatchException.AffectsOthers"/>, or any exception not a
    /// <see cref="ScheduledDispatchException"/>) ends the batch; the rest wait for the next round.
    /// </summary>
    public async Task<DispatchResult> DispatchDueAsync(int batchSize, Func<ScheduledMessageRow, Task> send, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var due = new List<ScheduledMessageRow>();
        var failed = new List<FailedDispatch>();
        await using (var select = new NpgsqlCommand($"""
            SELECT token_id, due_at, destination, message_type, body::text, headers::text, attempts, message_id
            FROM {PostgresSchema.ScheduledMessages}
            WHERE due_at <= now()
            ORDER BY due_at, seq
            LIMIT @batch
            FOR UPDATE SKIP LOCKED
            """, connection, transaction))
        {
            select.Parameters.AddWithValue("batch", batchSize);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var tokenId = reader.GetGuid(0);
                var destination = reader.GetString(2);
                var attempts = reader.GetInt32(6);
                if (!Uri.TryCreate(destination, UriKind.Absolute, out var destinationUri))
                {
                    failed.Add(Failure(tokenId, reader.GetString(3), attempts,
                        ScheduledDispatchException.Unreadable($"The destination '{destination}' is not an absolute URI.")));
                    continue;
                }

                due.Add(new ScheduledMessageRow(
                    tokenId, reader.GetFieldValue<DateTimeOffset>(1), destinationUri, reader.GetString(3), reader.GetString(4), reader.GetString(5), attempts,
                    reader.IsDBNull(7) ? null : reader.GetGuid(7)));
            }
        }

        if (due.Count == 0 && failed.Count == 0)
        {
            return DispatchResult.Nothing;
        }

        var round = new ScheduledSendRound(send, (row, error) => Failure(row.TokenId, row.MessageType, row.Attempts, error), cancellationToken);
        await round.SendAsync(due);
        var sent = round.Sent;
        failed.AddRange(round.Failed);

        // From here on the work is bookkeeping for rows already sent: finish it even when stopping.
        var settle = CancellationToken.None;
        if (sent.Count > 0)
        {
            await using var delete = new NpgsqlCommand($"DELETE FROM {PostgresSchema.ScheduledMessages} WHERE token_id = ANY(@tokens)", connection, transaction);
            delete.Parameters.AddWithValue("tokens", sent.ToArray());
            await delete.ExecuteNonQueryAsync(settle);
        }

        foreach (var failure in failed)
        {
            await using var command = new NpgsqlCommand(failure.SetAside
                ? $"""
                    INSERT INTO {PostgresSchema.ScheduledMessagesDead}
                        (token_id, due_at, destination, message_type, body, headers, created_at, attempts, last_error)
                    SELECT token_id, due_at, destination, message_type, body, headers, created_at, @attempts, @error
                    FROM {PostgresSchema.ScheduledMessages} WHERE token_id = @token_id
                    ON CONFLICT (token_id) DO UPDATE SET due_at = EXCLUDED.due_at, destination = EXCLUDED.destination,
                        message_type = EXCLUDED.message_type, body = EXCLUDED.body, headers = EXCLUDED.headers,
                        attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error, set_aside_at = now();
                    DELETE FROM {PostgresSchema.ScheduledMessages} WHERE token_id = @token_id;
                    """
                : $"""
                    UPDATE {PostgresSchema.ScheduledMessages}
                    SET attempts = @attempts, last_error = @error, due_at = now() + @delay
                    WHERE token_id = @token_id
                    """, connection, transaction);
            command.Parameters.AddWithValue("token_id", failure.TokenId);
            command.Parameters.AddWithValue("attempts", failure.Attempts);
            command.Parameters.AddWithValue("error", failure.Error);
            command.Parameters.AddWithValue("delay", failure.RetryIn);
            await command.ExecuteNonQueryAsync(settle);
        }

        await transaction.CommitAsync(settle);
        return new DispatchResult(sent.Count, failed, round.Interrupted);
    }

    private FailedDispatch Failure(Guid tokenId, string messageType, int previousAttempts, Exception error)
    {
        var attempts = previousAttempts + 1;
        // Only failures that are the row's own fault set it aside: a broker outage fails every row alike.
        var setAside = attempts >= _options.MaxAttempts && error is ScheduledDispatchException { RowAtFault: true };
        return new FailedDispatch(tokenId, messageType, attempts, error.Message, _options.RetryDelay(attempts), setAside);
    }
}
