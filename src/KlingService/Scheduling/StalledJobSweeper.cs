using System.Text.Json;
using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Persistence;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace KlingService.Scheduling;

/// <summary>
/// A safety net. The saga's schedules now commit with its state (its outbox, see
/// <see cref="Persistence.PostgresSagaRepositoryContextFactory"/>), so a committed job normally has
/// its check and deadline rows; this remains the backstop for one whose row went missing anyway (set
/// aside after failed sends, deleted by hand): its redelivered message would carry a token the saga
/// has moved past and be ignored. This finds tracked jobs with no scheduled check, or no scheduled deadline, and no
/// change for well over a check interval, and sends them <see cref="RearmVideoJob"/>, which makes the
/// saga arm its check and deadline again (the deadline at the same absolute time). A repeated
/// Submitted would not do: the saga cannot see the scheduler, and a repeat never re-arms a check the
/// saga believes pending.
/// It also re-announces tasks that were created and recorded but whose announcement never reached
/// the saga (the instance died in between; the launcher's announcement is not in the outbox), so no
/// paid task goes untracked.
/// </summary>
public sealed partial class StalledJobSweeper(
    NpgsqlDataSource dataSource,
    IBus bus,
    IHostApplicationLifetime lifetime,
    IOptions<GenerationOptions> options,
    ILogger<StalledJobSweeper> logger) : BackgroundService
{
    // A healthy job's row changes at every check, at least once per MaxCheckInterval. Waiting three
    // of those (and never less than 30 s) keeps a check that merely sits in a busy queue from being
    // taken for a lost one; a false alarm would cost one extra status call, nothing more.
    private readonly TimeSpan _staleAfter = Max(
        options.Value.MaxCheckInterval * 3, options.Value.FirstCheckAfter + options.Value.MaxCheckInterval, TimeSpan.FromSeconds(30));

    private const string FindStalled = $"""
        SELECT s.data, s.check_missing, s.deadline_missing FROM (
            SELECT j.data::text AS data, j.updated_at,
                -- A job storing its video waits for the copy's answer, not for a check.
                (j.data->>'CurrentState') <> 'Storing' AND NOT EXISTS (SELECT 1 FROM {PostgresSchema.ScheduledMessages} m
                            WHERE m.token_id = (j.data->>'StatusCheckTokenId')::uuid) AS check_missing,
                NOT EXISTS (SELECT 1 FROM {PostgresSchema.ScheduledMessages} m
                            WHERE m.token_id = (j.data->>'DeadlineTokenId')::uuid) AS deadline_missing
            FROM {PostgresSchema.VideoJobs} j
            WHERE j.updated_at < now() - @stale_after) s
        WHERE s.check_missing OR s.deadline_missing
        ORDER BY s.updated_at
        LIMIT 500
        """;

    private const string FindUnannounced = $"""
        SELECT l.request_id, l.task_id, l.submitted_at, l.mode, l.duration_seconds FROM {PostgresSchema.RequestLedger} l
        WHERE l.task_id IS NOT NULL AND l.ended_at IS NULL AND l.submitted_at < now() - @stale_after
          AND NOT EXISTS (SELECT 1 FROM {PostgresSchema.VideoJobs} j WHERE j.request_id = l.request_id)
        ORDER BY l.submitted_at
        LIMIT 500
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Delay(Timeout.Infinite, lifetime.ApplicationStarted).ContinueWith(_ => { }, TaskScheduler.Default);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_staleAfter / 3, stoppingToken);
                await SweepAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or MassTransitException)
            {
                SweepFailed(logger, e.Message);
            }
        }
    }

    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(FindStalled);
        command.Parameters.AddWithValue("stale_after", _staleAfter);
        var stalled = new List<(VideoJobState Job, bool CheckMissing, bool DeadlineMissing)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                stalled.Add((JsonSerializer.Deserialize<VideoJobState>(reader.GetString(0))!, reader.GetBoolean(1), reader.GetBoolean(2)));
            }
        }

        var unannounced = new List<VideoGenerationSubmitted>();
        await using var find = dataSource.CreateCommand(FindUnannounced);
        find.Parameters.AddWithValue("stale_after", _staleAfter);
        await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                unannounced.Add(new VideoGenerationSubmitted(
                    reader.GetGuid(0),
                    reader.GetString(1),
                    reader.GetFieldValue<DateTimeOffset>(2),
                    Enum.TryParse<VideoMode>(reader.IsDBNull(3) ? null : reader.GetString(3), out var mode) ? mode : VideoMode.Standard,
                    reader.IsDBNull(4) ? 5 : reader.GetInt32(4)));
            }
        }

        foreach (var (job, checkMissing, deadlineMissing) in stalled)
        {
            JobRearmed(logger, job.TaskId, job.RequestId);
            await bus.Publish(new RearmVideoJob(job.CorrelationId, job.TaskId, checkMissing, deadlineMissing), cancellationToken);
        }

        foreach (var submitted in unannounced)
        {
            TaskAnnouncedAgain(logger, submitted.TaskId, submitted.RequestId);
            await bus.Publish(submitted, cancellationToken);
        }

        return stalled.Count + unannounced.Count;
    }

    private static TimeSpan Max(params TimeSpan[] values) => values.Max();

    [LoggerMessage(1, LogLevel.Warning, "Task {TaskId} of request {RequestId} had no scheduled status check or deadline; re-arming them")]
    private static partial void JobRearmed(ILogger logger, string taskId, Guid requestId);

    [LoggerMessage(3, LogLevel.Warning, "Task {TaskId} of request {RequestId} was created but never tracked; announcing it again")]
    private static partial void TaskAnnouncedAgain(ILogger logger, string taskId, Guid requestId);

    [LoggerMessage(2, LogLevel.Warning, "Looking for stalled jobs failed; trying again later: {Message}")]
    private static partial void SweepFailed(ILogger logger, string message);
}
