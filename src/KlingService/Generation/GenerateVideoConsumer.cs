using System.Diagnostics;
using KlingService.Contracts;
using KlingService.Telemetry;
using MassTransit;

namespace KlingService.Generation;

/// <summary>
/// Validates a command and puts it in the backlog, where it waits for one of the account's slots
/// (the <see cref="TaskLauncher"/> creates its task). Nothing is spent here, so the message is
/// acknowledged quickly and a broker outage never interrupts a paid call.
/// </summary>
public sealed class GenerateVideoConsumer(
    IRequestLedger ledger,
    TimeProvider time,
    KlingMetrics metrics,
    ILogger<GenerateVideoConsumer> logger) : IConsumer<GenerateVideo>
{
    public async Task Consume(ConsumeContext<GenerateVideo> context)
    {
        var command = context.Message;
        var cancellationToken = context.CancellationToken;

        if (GenerateVideoValidator.FindProblem(command) is { } problem)
        {
            GenerationLog.RequestInvalid(logger, command.RequestId, problem);
            var answer = new VideoFailed(command.RequestId, null, VideoFailureReason.InvalidRequest, problem);
            // Recorded (without a RequestId there is nothing to remember it by); a repeat gets its first answer again.
            if (command.RequestId != Guid.Empty && !await ledger.RecordRejectedAsync(answer, cancellationToken))
            {
                await ReplayAsync(context, command.RequestId);
                return;
            }

            metrics.Failed(VideoFailureReason.InvalidRequest, tracked: false);
            await context.Publish(answer);
            return;
        }

        var admission = await ledger.AdmitAsync(command, Activity.Current?.Id, cancellationToken);
        switch (admission.Status)
        {
            case AdmissionStatus.Admitted:
                GenerationLog.RequestAdmitted(logger, command.RequestId);
                break;
            case AdmissionStatus.Submitted:
                // The task exists but the hand-over may have been lost with a crash: say it again.
                // The saga is keyed by the task: for a live job a second Submitted only re-arms its check.
                GenerationLog.DuplicateRequest(logger, command.RequestId, admission.Status);
                await context.Publish(new VideoGenerationSubmitted(
                    command.RequestId, admission.TaskId!, time.GetUtcNow(), command.Mode, command.DurationSeconds));
                break;
            case AdmissionStatus.Ended:
                await ReplayAsync(context, command.RequestId);
                break;
            default:
                GenerationLog.DuplicateRequest(logger, command.RequestId, admission.Status);
                break;
        }
    }

    /// <summary>
    /// A repeat of an ended request gets its terminal event again (a new MessageId, the same content),
    /// and nothing is spent: the documented recovery for a client that lost its event.
    /// </summary>
    private async Task ReplayAsync(ConsumeContext<GenerateVideo> context, Guid requestId)
    {
        if ((await ledger.GetRecordAsync(requestId, context.CancellationToken))?.Outcome is not { } outcome)
        {
            GenerationLog.DuplicateRequest(logger, requestId, AdmissionStatus.Ended);
            return;
        }

        GenerationLog.Replayed(logger, requestId, outcome.Ready is not null ? nameof(VideoReady) : nameof(VideoFailed));
        await context.Publish(outcome.Event, context.CancellationToken);
    }
}
