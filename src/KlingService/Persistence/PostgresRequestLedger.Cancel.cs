using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Scheduling;
using Npgsql;

namespace KlingService.Persistence;

/// <summary>The durable ledger's cancels: the cancel, the job's silencing and the client's answer commit together.</summary>
public sealed partial class PostgresRequestLedger
{
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
                   claim_token IS NOT NULL
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
}
