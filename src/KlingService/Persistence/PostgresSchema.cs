using Npgsql;

namespace KlingService.Persistence;

/// <summary>
/// The service's tables. Every statement is idempotent, and an advisory lock serialises instances
/// starting together, so each start creates or upgrades the schema safely.
/// </summary>
public static class PostgresSchema
{
    public const string VideoJobs = "kling_video_jobs";
    public const string RequestLedger = "kling_request_ledger";
    public const string ScheduledMessages = "kling_scheduled_messages";

    // An arbitrary constant: the advisory lock that guards schema changes.
    private const long SchemaLock = 0x4B4C494E47;

    private const string Ddl = $"""
        CREATE TABLE IF NOT EXISTS {VideoJobs} (
            correlation_id uuid PRIMARY KEY,
            version integer NOT NULL,
            current_state text NOT NULL,
            task_id text NOT NULL,
            request_id uuid NOT NULL,
            data jsonb NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now());
        CREATE INDEX IF NOT EXISTS {VideoJobs}_request_id ON {VideoJobs} (request_id);

        CREATE TABLE IF NOT EXISTS {RequestLedger} (
            request_id uuid PRIMARY KEY,
            task_id text NULL,
            lease_until timestamptz NOT NULL,
            ended_at timestamptz NULL,
            created_at timestamptz NOT NULL DEFAULT now());

        CREATE TABLE IF NOT EXISTS {ScheduledMessages} (
            token_id uuid PRIMARY KEY,
            due_at timestamptz NOT NULL,
            destination text NOT NULL,
            message_type text NOT NULL,
            body jsonb NOT NULL,
            headers jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now());
        CREATE INDEX IF NOT EXISTS {ScheduledMessages}_due_at ON {ScheduledMessages} (due_at);
        """;

    public static async Task EnsureCreatedAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({SchemaLock})", connection, transaction))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var ddl = new NpgsqlCommand(Ddl, connection, transaction))
        {
            await ddl.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }
}
