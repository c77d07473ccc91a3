using System.Text.Json;
using KlingService.Generation;
using KlingService.Outbox;
using KlingService.Scheduling;
using Npgsql;

namespace KlingService.Persistence;

/// <summary>
/// One message's unit of work on the saga table: a connection and a transaction, committed only
/// when the saga's handling succeeded. Rows are locked on load, so two messages for one job are
/// handled one after the other, on any number of instances.
/// </summary>
public sealed class SagaSession : IAsyncDisposable
{
    private const string Columns = "data, version";

    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;

    private SagaSession(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        _connection = connection;
        _transaction = transaction;
    }

    public static async Task<SagaSession> BeginAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            return new SagaSession(connection, await connection.BeginTransactionAsync(cancellationToken));
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async Task<VideoJobState?> LoadAsync(Guid correlationId, bool forUpdate, CancellationToken cancellationToken)
    {
        await using var command = Command($"SELECT {Columns} FROM {PostgresSchema.VideoJobs} WHERE correlation_id = @id{(forUpdate ? " FOR UPDATE" : "")}");
        command.Parameters.AddWithValue("id", correlationId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var job = JsonSerializer.Deserialize<VideoJobState>(reader.GetString(0))!;
        job.Version = reader.GetInt32(1);
        return job;
    }

    /// <summary>Inserts a new saga; false when one with the same key exists already (a twin).</summary>
    public async Task<bool> InsertAsync(VideoJobState job, CancellationToken cancellationToken)
    {
        job.Version = 1;
        await using var command = Command($"""
            INSERT INTO {PostgresSchema.VideoJobs} (correlation_id, version, current_state, task_id, request_id, data)
            VALUES (@id, @version, @state, @task_id, @request_id, @data)
            ON CONFLICT (correlation_id) DO NOTHING
            """);
        AddRow(command, job);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task UpdateAsync(VideoJobState job, CancellationToken cancellationToken)
    {
        var expected = job.Version;
        job.Version = expected + 1;
        await using var command = Command($"""
            UPDATE {PostgresSchema.VideoJobs}
            SET version = @version, current_state = @state, task_id = @task_id, request_id = @request_id, data = @data, updated_at = now()
            WHERE correlation_id = @id AND version = @expected
            """);
        AddRow(command, job);
        command.Parameters.AddWithValue("expected", expected);
        if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            job.Version = expected;
            throw new SagaConcurrencyException(job.CorrelationId, expected);
        }
    }

    /// <summary>True once this session deleted its saga: the job ended, and the commit is its final one.</summary>
    public bool Finalized { get; private set; }

    public async Task DeleteAsync(VideoJobState job, CancellationToken cancellationToken)
    {
        await using var command = Command($"DELETE FROM {PostgresSchema.VideoJobs} WHERE correlation_id = @id AND version = @expected");
        command.Parameters.AddWithValue("id", job.CorrelationId);
        command.Parameters.AddWithValue("expected", job.Version);
        if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            throw new SagaConcurrencyException(job.CorrelationId, job.Version);
        }

        Finalized = true;
    }

    /// <summary>
    /// Writes what the saga sent while handling the message into <c>kling_scheduled_messages</c>, in
    /// this transaction and in the order it was sent: it commits with the saga's new state, or not at all.
    /// </summary>
    public async Task WriteOutboxAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken)
    {
        foreach (var entry in entries)
        {
            await ScheduledMessageStore.WriteAsync(_connection, _transaction, entry, cancellationToken);
        }
    }

    public Task CommitAsync(CancellationToken cancellationToken) => _transaction.CommitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }

    private NpgsqlCommand Command(string sql) => new(sql, _connection, _transaction);

    private static void AddRow(NpgsqlCommand command, VideoJobState job)
    {
        command.Parameters.AddWithValue("id", job.CorrelationId);
        command.Parameters.AddWithValue("version", job.Version);
        command.Parameters.AddWithValue("state", job.CurrentState);
        command.Parameters.AddWithValue("task_id", job.TaskId);
        command.Parameters.AddWithValue("request_id", job.RequestId);
        command.Parameters.Add(new NpgsqlParameter("data", NpgsqlTypes.NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(job) });
    }
}
