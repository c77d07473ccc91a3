using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Telemetry;
using MassTransit;

namespace KlingService.Jobs;

/// <summary>
/// Gives up a request for its client. The provider cannot cancel a task, so once one exists the
/// money is spent: the client is answered at once, and the job follows the task quietly until the
/// provider ends it, so the account's slot stays counted until it is really free.
/// </summary>
public sealed class CancelVideoGenerationConsumer(IRequestLedger ledger, KlingMetrics metrics, ILogger<CancelVideoGenerationConsumer> logger)
    : IConsumer<CancelVideoGeneration>
{
    public async Task Consume(ConsumeContext<CancelVideoGeneration> context)
    {
        var requestId = context.Message.RequestId;
        var (effect, taskId) = await ledger.CancelAsync(requestId, effect => Answer(requestId, effect), context.CancellationToken);
        if (effect == CancelEffect.None)
        {
            // Ended or cancelled already: the status query tells which.
            return;
        }

        GenerationLog.Cancelled(logger, requestId, effect);
        metrics.Failed(VideoFailureReason.Cancelled, tracked: false);
        if (ledger.AnnouncesInTransaction)
        {
            return;
        }

        if (taskId is not null)
        {
            await context.Publish(new SilenceVideoJob(TaskCorrelation.FromTaskId(taskId)));
        }

        await context.Publish(Answer(requestId, effect) with { TaskId = taskId });
    }

    private static VideoFailed Answer(Guid requestId, CancelEffect effect) => new(
        requestId,
        null,
        VideoFailureReason.Cancelled,
        effect switch
        {
            CancelEffect.EndedWaiting => "Cancelled before its task was created; nothing was spent.",
            CancelEffect.CancelledBeforeArrival => "Cancelled before it arrived: when its GenerateVideo comes, nothing will be created or spent.",
            CancelEffect.CancelledWhileCreating =>
                "Cancelled while its task was being created: the task may be created and charged; nothing more will be delivered.",
            _ => "Cancelled while generating: the provider cannot cancel a task, so it was charged; nothing more will be delivered.",
        });
}
