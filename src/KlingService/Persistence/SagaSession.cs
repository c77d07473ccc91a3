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

    private const string Update = $"""
        UPDATE {PostgresSchema.VideoJobs}
        SET version = @version, current_state = @state, task_id = @task_id, request_id = @request_id, data = @data, updated_at = now()
        WHERE correlation_id = @id AND version = @expected
        """;

    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private VideoJobState? _staged;

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
        await using var command = Command(Update);
        BindUpdate(command.Parameters, job, expected);
        job.Version = expected + 1;
        if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            job.Version = expected;
            throw new SagaConcurrencyException(job.CorrelationId, expected);
        }
    }

    /// <summary>
    /// Keeps the saga's new state to be written by <see cref="WriteOutboxAsync"/> with the rows it
    /// sent, in one round trip: a status check then costs the server three round trips (load, write,
    /// commit), not one per row. The version is checked there, before anything commits.
    /// </summary>
    public void StageUpdate(VideoJobState job) => _staged = job;

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
    /// Writes the staged state (<see cref="StageUpdate"/>) and what the saga sent while handling the
    /// message into <c>kling_scheduled_messages</c>, in this transaction, in one batch and in the order
    /// it was sent: it commits with the saga's new state, or not at all. A staged state whose version
    /// is no longer the stored one is refused (<see cref="SagaConcurrencyException"/>), and nothing commits.
    /// </summary>
    public async Task WriteOutboxAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken)
    {
        var staged = _staged;
        _staged = null;
        await using var batch = new NpgsqlBatch(_connection, _transaction);
        if (staged is not null)
        {
            var update = new NpgsqlBatchCommand(Update);
            BindUpdate(update.Parameters, staged, staged.Version);
            batch.BatchCommands.Add(update);
        }

        foreach (var entry in entries)
        {
            foreach (var command in ScheduledMessageStore.Commands(entry))
            {
                batch.BatchCommands.Add(command);
            }
        }

        if (batch.BatchCommands.Count == 0)
        {
            return;
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
        if (staged is not null)
        {
            if (batch.BatchCommands[0].RecordsAffected != 1)
            {
                throw new SagaConcurrencyException(staged.CorrelationId, staged.Version);
            }

            staged.Version++;
        }
    }

    /// <summary>Commits, writing a staged state first if nothing wrote it yet.</summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_staged is not null)
        {
            await WriteOutboxAsync([], cancellationToken);
        }

        await _transaction.CommitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }

    private NpgsqlCommand Command(string sql) => new(sql, _connection, _transaction);

    private static void BindUpdate(NpgsqlParameterCollection parameters, VideoJobState job, int expected)
    {
        parameters.AddWithValue("id", job.CorrelationId);
        parameters.AddWithValue("version", expected + 1);
        parameters.AddWithValue("state", job.CurrentState);
        parameters.AddWithValue("task_id", job.TaskId);
        parameters.AddWithValue("request_id", job.RequestId);
        parameters.Add(new NpgsqlParameter("data", NpgsqlTypes.NpgsqlDbType.Jsonb) { Value = Serialize(job, expected + 1) });
        parameters.AddWithValue("expected", expected);
    }

    // The stored document carries the version it is stored under, as it did when each write serialized after bumping it.
    private static string Serialize(VideoJobState job, int version)
    {
        var current = job.Version;
        job.Version = version;
        try
        {
            return JsonSerializer.Serialize(job);
        }
        finally
        {
            job.Version = current;
        }
    }

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
