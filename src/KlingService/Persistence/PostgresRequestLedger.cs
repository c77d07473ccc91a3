using KlingService.Generation;
using Npgsql;

namespace KlingService.Persistence;

/// <summary>
/// The durable ledger: one row per RequestId, shared by every instance. The claim is a single
/// upsert, so two instances racing for one request cannot both win it.
/// </summary>
public sealed class PostgresRequestLedger(NpgsqlDataSource dataSource) : IRequestLedger
{
    private const string Claim = $"""
        INSERT INTO {PostgresSchema.RequestLedger} AS l (request_id, lease_until)
        VALUES (@request_id, now() + @lease)
        ON CONFLICT (request_id) DO UPDATE SET lease_until = EXCLUDED.lease_until
            WHERE l.task_id IS NULL AND l.ended_at IS NULL AND l.lease_until < now()
        RETURNING true
        """;

    // About two minutes of a database restart, at most 5 s apart.
    private const int RecordTaskAttempts = 30;

    private const string Read = $"SELECT task_id, ended_at IS NOT NULL FROM {PostgresSchema.RequestLedger} WHERE request_id = @request_id";

    public async ValueTask<RequestClaim> TryClaimAsync(Guid requestId, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var claim = dataSource.CreateCommand(Claim);
        claim.Parameters.AddWithValue("request_id", requestId);
        claim.Parameters.AddWithValue("lease", lease);
        if (await claim.ExecuteScalarAsync(cancellationToken) is true)
        {
            return RequestClaim.Claimed;
        }

        await using var read = dataSource.CreateCommand(Read);
        read.Parameters.AddWithValue("request_id", requestId);
        await using var row = await read.ExecuteReaderAsync(cancellationToken);
        if (!await row.ReadAsync(cancellationToken))
        {
            // Deleted between the two statements: only an operator does that; treat it as busy and come back.
            return RequestClaim.Busy;
        }

        return row.GetBoolean(1) ? RequestClaim.Ended
            : row.IsDBNull(0) ? RequestClaim.Busy
            : RequestClaim.Submitted(row.GetString(0));
    }

    /// <summary>
    /// Records a task that has just been paid for. The database may be briefly away; losing the id
    /// now would mean creating the task again later, so this write keeps trying for a while.
    /// </summary>
    public async ValueTask RecordTaskAsync(Guid requestId, string taskId, CancellationToken cancellationToken)
    {
        var wait = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await Execute($"UPDATE {PostgresSchema.RequestLedger} SET task_id = @task_id WHERE request_id = @request_id", requestId, taskId, cancellationToken);
                return;
            }
            catch (NpgsqlException e) when (e.IsTransient && attempt < RecordTaskAttempts)
            {
                await Task.Delay(wait, cancellationToken);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    public ValueTask ReleaseAsync(Guid requestId, CancellationToken cancellationToken) =>
        Execute($"UPDATE {PostgresSchema.RequestLedger} SET lease_until = '-infinity' WHERE request_id = @request_id AND task_id IS NULL", requestId, null, cancellationToken);

    public ValueTask RecordEndedAsync(Guid requestId, CancellationToken cancellationToken) =>
        Execute($"""
            INSERT INTO {PostgresSchema.RequestLedger} (request_id, lease_until, ended_at) VALUES (@request_id, '-infinity', now())
            ON CONFLICT (request_id) DO UPDATE SET ended_at = coalesce({PostgresSchema.RequestLedger}.ended_at, now())
            """, requestId, null, cancellationToken);

    private async ValueTask Execute(string sql, Guid requestId, string? taskId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue("request_id", requestId);
        if (taskId is not null)
        {
            command.Parameters.AddWithValue("task_id", taskId);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
