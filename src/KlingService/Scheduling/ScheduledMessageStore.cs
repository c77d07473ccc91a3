using KlingService.Persistence;
using Npgsql;

namespace KlingService.Scheduling;

/// <summary>The table of messages waiting for their time. Rows are claimed with SKIP LOCKED, so each is sent by one instance.</summary>
public sealed class ScheduledMessageStore(NpgsqlDataSource dataSource)
{
    public async Task SaveAsync(ScheduledMessageRow row, CancellationToken cancellationToken)
    {
        // A redelivered ScheduleMessage carries the same token: the upsert keeps one row for it.
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO {PostgresSchema.ScheduledMessages} (token_id, due_at, destination, message_type, body, headers)
            VALUES (@token_id, @due_at, @destination, @message_type, @body::jsonb, @headers::jsonb)
            ON CONFLICT (token_id) DO UPDATE SET due_at = EXCLUDED.due_at, destination = EXCLUDED.destination,
                message_type = EXCLUDED.message_type, body = EXCLUDED.body, headers = EXCLUDED.headers
            """);
        command.Parameters.AddWithValue("token_id", row.TokenId);
        command.Parameters.AddWithValue("due_at", row.DueAt);
        command.Parameters.AddWithValue("destination", row.Destination.ToString());
        command.Parameters.AddWithValue("message_type", row.MessageType);
        command.Parameters.AddWithValue("body", row.Body);
        command.Parameters.AddWithValue("headers", row.Headers);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task CancelAsync(Guid tokenId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"DELETE FROM {PostgresSchema.ScheduledMessages} WHERE token_id = @token_id");
        command.Parameters.AddWithValue("token_id", tokenId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Claims up to <paramref name="batchSize"/> due messages, hands them to <paramref name="send"/>,
    /// and deletes them in the same transaction: a crash before the commit leaves them to be sent
    /// again (at least once), never lost.
    /// </summary>
    public async Task<int> DispatchDueAsync(int batchSize, Func<ScheduledMessageRow, Task> send, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var due = new List<ScheduledMessageRow>();
        await using (var select = new NpgsqlCommand($"""
            SELECT token_id, due_at, destination, message_type, body::text, headers::text
            FROM {PostgresSchema.ScheduledMessages}
            WHERE due_at <= now()
            ORDER BY due_at
            LIMIT @batch
            FOR UPDATE SKIP LOCKED
            """, connection, transaction))
        {
            select.Parameters.AddWithValue("batch", batchSize);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                due.Add(new ScheduledMessageRow(
                    reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1), new Uri(reader.GetString(2)), reader.GetString(3), reader.GetString(4), reader.GetString(5)));
            }
        }

        if (due.Count == 0)
        {
            return 0;
        }

        foreach (var row in due)
        {
            await send(row);
        }

        await using (var delete = new NpgsqlCommand($"DELETE FROM {PostgresSchema.ScheduledMessages} WHERE token_id = ANY(@tokens)", connection, transaction))
        {
            delete.Parameters.AddWithValue("tokens", due.Select(r => r.TokenId).ToArray());
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return due.Count;
    }
}
