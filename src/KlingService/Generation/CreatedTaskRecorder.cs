using KlingService.Contracts;
using KlingService.Telemetry;

namespace KlingService.Generation;

/// <summary>
/// Keeps a created task: records it against its request under the attempt's claim, for as long as the process lives
/// (the id is money), then announces it, so its job follows it.
/// </summary>
public sealed class CreatedTaskRecorder(
    IRequestLedger ledger,
    InFlightClaims claims,
    AnnouncementPublisher announcements,
    TimeProvider time,
    KlingMetrics metrics,
    ILogger<CreatedTaskRecorder> logger)
{
    /// <param name="job">The request the task was created for.</param>
    /// <param name="taskId">The created task.</param>
    /// <param name="waited">How long the request waited in the backlog before its attempt began.</param>
    /// <param name="renewal">Keeps the claim alive until the task is recorded; ended then.</param>
    /// <param name="stoppingToken">The service is stopping: recording goes on regardless; announcing stops after one more try.</param>
    public async Task RecordAndAnnounceAsync(PendingCreate job, string taskId, TimeSpan waited, CancellationTokenSource renewal, CancellationToken stoppingToken)
    {
        var command = job.Command;
        (TaskRecording Outcome, string? ExistingTaskId) recording = default;
        // For as long as the process lives: the claim stays renewed meanwhile, so the request is not created again.
        var announcement = new VideoGenerationSubmitted(command.RequestId, taskId, time.GetUtcNow(), command.Mode, command.DurationSeconds);
        await Backoff.RetryAsync(
            async token => recording = await ledger.RecordTaskAsync(command.RequestId, claims.ClaimOf(job), taskId, announcement, token),
            (e, attempt) => GenerationLog.RecordTaskFailed(logger, taskId, command.RequestId, attempt, e.Message),
            time,
            stoppingToken,
            untilDone: true);

        // Recorded: the request holds its slot through its task now, not through the claim.
        await renewal.CancelAsync();
        switch (recording.Outcome)
        {
            case TaskRecording.Duplicate:
                GenerationLog.DuplicateCharge(logger, command.RequestId, taskId, recording.ExistingTaskId!);
                metrics.DuplicateCharge("duplicate");
                return;
            case TaskRecording.AfterEnd:
                GenerationLog.TaskAfterEnd(logger, taskId, command.RequestId);
                metrics.DuplicateCharge("after_end");
                return;
            case TaskRecording.RecordedAfterClaimLost:
                GenerationLog.ClaimLost(logger, command.RequestId);
                break;
        }

        metrics.Submitted(waited);
        if (!ledger.AnnouncesInTransaction && (await ledger.FindAsync(command.RequestId, stoppingToken))?.Cancelled == true)
        {
            // Cancelled while being created: only its job hears of the task (to follow it quietly).
            await announcements.SendToJobAsync(announcement, stoppingToken);
            return;
        }

        await announcements.PublishAsync(announcement, taskId, command.RequestId, stoppingToken);
    }
}
