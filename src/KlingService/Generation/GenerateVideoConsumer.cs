using System.Diagnostics;
using KlingService.Contracts;
using KlingService.Telemetry;
using MassTransit;
using Microsoft.Extensions.Options;

namespace KlingService.Generation;

/// <summary>
/// Validates a command and puts it in the backlog, where it waits for one of the account's slots
/// (the <see cref="TaskLauncher"/> creates its task). Nothing is spent here, so the message is
/// acknowledged quickly and a broker outage never interrupts a paid call.
/// </summary>
public sealed class GenerateVideoConsumer(
    IRequestLedger ledger,
    TimeProvider time,
    IOptions<GenerationOptions> options,
    KlingMetrics metrics,
    ILogger<GenerateVideoConsumer> logger) : IConsumer<GenerateVideo>
{
    /// <summary>The answer of a request whose start-by moment came before a slot did; shared with the launcher's sweep.</summary>
    public const string StartByPassedMessage = "The request waited for a slot until its StartBy (or the service's longest wait); nothing was created or charged.";

    public async Task Consume(ConsumeContext<GenerateVideo> context)
    {
        var command = context.Message;
        var cancellationToken = context.CancellationToken;

        if (GenerateVideoValidator.FindProblem(command) is { } problem)
        {
            GenerationLog.RequestInvalid(logger, command.RequestId, problem);
            await RefuseAsync(context, new VideoFailed(command.RequestId, null, VideoFailureReason.InvalidRequest, problem));
            return;
        }

        var now = time.GetUtcNow();
        var startBy = StartBy(command, now, options.Value.MaxWait);
        if (startBy <= now && await RecordRefusalAsync(context, new VideoFailed(
                command.RequestId, null, VideoFailureReason.StartByPassed, $"The request arrived after its StartBy ({startBy:O}); nothing was created or charged.")))
        {
            GenerationLog.ArrivedAfterStartBy(logger, command.RequestId, startBy.Value);
            return;
        }

        // Not past its StartBy, or a repeat of a known request: that one's first command governs it.
        var admission = await ledger.AdmitAsync(command, Activity.Current?.Id, startBy, cancellationToken);
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
    /// When the request stops waiting for a slot: its own StartBy or the service's longest wait, whichever comes first.
    /// </summary>
    public static DateTimeOffset? StartBy(GenerateVideo command, DateTimeOffset now, TimeSpan? maxWait) =>
        (command.StartBy, maxWait) switch
        {
            ({ } own, { } wait) => own < now + wait ? own : now + wait,
            ({ } own, null) => own,
            (null, { } wait) => now + wait,
            _ => null,
        };

    /// <summary>
    /// Answers a request refused before anything was spent. Recorded (without a RequestId there is nothing to remember
    /// it by), so a repeat gets its first answer again.
    /// </summary>
    private async Task RefuseAsync(ConsumeContext<GenerateVideo> context, VideoFailed answer)
    {
        if (answer.RequestId != Guid.Empty && !await RecordRefusalAsync(context, answer))
        {
            await ReplayAsync(context, answer.RequestId);
            return;
        }

        if (answer.RequestId == Guid.Empty)
        {
            metrics.Failed(answer.Reason, tracked: false);
            await context.Publish(answer);
        }
    }

    /// <summary>Records and announces a refusal of a new request; false, announcing nothing, when the request is known already.</summary>
    private async Task<bool> RecordRefusalAsync(ConsumeContext<GenerateVideo> context, VideoFailed answer)
    {
        if (!await ledger.RecordRejectedAsync(answer, context.CancellationToken))
        {
            return false;
        }

        metrics.Failed(answer.Reason, tracked: false);
        await context.Publish(answer);
        return true;
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
