using System.Text.Json;
using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Persistence;
using MassTransit;
using Npgsql;

namespace KlingService.Scheduling;

/// <summary>
/// The safety net for the one gap the in-memory outbox leaves: a saga's new state committed but the
/// schedule it made never reached the broker (a crash or a broker outage in between). Such a job
/// has no pending status check; its redelivered message carries a token the saga has moved past and
/// is ignored. Every minute this finds tracked jobs with no scheduled check and no recent change,
/// and re-announces their submission, which makes the saga arm its check and deadline again.
/// </summary>
public sealed partial class StalledJobSweeper(
    NpgsqlDataSource dataSource,
    IBus bus,
    IHostApplicationLifetime lifetime,
    ILogger<StalledJobSweeper> logger) : BackgroundService
{
    // Far longer than any check interval, so a check merely waiting in a busy queue is not mistaken for a lost one.
    private static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    private const string FindStalled = $"""
        SELECT j.data::text FROM {PostgresSchema.VideoJobs} j
        WHERE j.updated_at < now() - @stale_after
          AND NOT EXISTS (
              SELECT 1 FROM {PostgresSchema.ScheduledMessages} m
              WHERE m.token_id = (j.data->>'StatusCheckTokenId')::uuid)
        ORDER BY j.updated_at
        LIMIT 500
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Delay(Timeout.Infinite, lifetime.ApplicationStarted).ContinueWith(_ => { }, TaskScheduler.Default);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(SweepInterval, stoppingToken);
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
        command.Parameters.AddWithValue("stale_after", StaleAfter);
        var stalled = new List<VideoJobState>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                stalled.Add(JsonSerializer.Deserialize<VideoJobState>(reader.GetString(0))!);
            }
        }

        foreach (var job in stalled)
        {
            JobRearmed(logger, job.TaskId, job.RequestId);
            await bus.Publish(new VideoGenerationSubmitted(job.RequestId, job.TaskId, job.SubmittedAt, job.Mode, job.DurationSeconds), cancellationToken);
        }

        return stalled.Count;
    }

    [LoggerMessage(1, LogLevel.Warning, "Task {TaskId} of request {RequestId} had no scheduled status check; re-arming it")]
    private static partial void JobRearmed(ILogger logger, string taskId, Guid requestId);

    [LoggerMessage(2, LogLevel.Warning, "Looking for stalled jobs failed; trying again later: {Message}")]
    private static partial void SweepFailed(ILogger logger, string message);
}
