using System.Diagnostics;
using System.Globalization;
using KlingService.Contracts;
using KlingService.Kling;
using KlingService.Telemetry;
using MassTransit;
using Microsoft.Extensions.Options;

namespace KlingService.Generation;

/// <summary>
/// Validates a command, creates its Kling task once, and hands the job to the saga by publishing
/// <see cref="VideoGenerationSubmitted"/>. Transient provider errors are thrown for the endpoint's
/// retry policy (see <see cref="GenerateVideoConsumerDefinition"/>); permanent ones end the job.
/// </summary>
public sealed class GenerateVideoConsumer(
    IKlingApi kling,
    IRequestLedger ledger,
    IOptions<KlingOptions> klingOptions,
    TimeProvider time,
    KlingMetrics metrics,
    ILogger<GenerateVideoConsumer> logger) : IConsumer<GenerateVideo>
{
    public async Task Consume(ConsumeContext<GenerateVideo> context)
    {
        var command = context.Message;
        var cancellationToken = context.CancellationToken;

        if (command.RequestId == Guid.Empty)
        {
            // Without a key there is nothing to remember the request by; answer, spend nothing.
            await Reject(context, null, VideoFailureReason.InvalidRequest, GenerateVideoValidator.FindProblem(command)!);
            return;
        }

        // The claim outlives one create call, so a concurrent twin waits instead of creating a second task.
        var claim = await ledger.TryClaimAsync(command.RequestId, klingOptions.Value.RequestTimeout * 2, cancellationToken);
        switch (claim.Status)
        {
            case RequestClaimStatus.Submitted:
                // The task exists but the hand-over may have been lost with a crash: say it again.
                // The saga is keyed by the task: for a live job a second Submitted only re-arms its check.
                GenerationLog.DuplicateRequest(logger, command.RequestId, claim.Status);
                await PublishSubmitted(context, claim.TaskId!);
                return;
            case RequestClaimStatus.InProgress:
                // Dropping it could lose the job if the other attempt died; come back after its claim.
                throw new RequestInProgressException(command.RequestId);
            case RequestClaimStatus.Ended:
                GenerationLog.DuplicateRequest(logger, command.RequestId, claim.Status);
                return;
        }

        if (GenerateVideoValidator.FindProblem(command) is { } problem)
        {
            GenerationLog.RequestInvalid(logger, command.RequestId, problem);
            await ledger.RecordEndedAsync(command.RequestId, cancellationToken);
            await Reject(context, null, VideoFailureReason.InvalidRequest, problem);
            return;
        }

        CreateTaskResponse created;
        using (var span = KlingTelemetry.Source.StartActivity(KlingTelemetry.CreateTaskSpan))
        {
            span?.SetTag(KlingTelemetry.RequestIdTag, command.RequestId);
            span?.SetTag(KlingTelemetry.ModeTag, command.Mode.ToString());
            span?.SetTag(KlingTelemetry.DurationTag, command.DurationSeconds);
            try
            {
                // Not cancelled with the message (a broker disconnect cancels it): once sent, a paid
                // call is seen through so its task id is kept; RequestTimeout still bounds it.
                created = await kling.CreateTaskAsync(ToKlingRequest(command), CancellationToken.None);
                span?.SetTag(KlingTelemetry.TaskIdTag, created.TaskId);
            }
            catch (KlingApiException e) when (e.Kind is KlingErrorKind.Rejected or KlingErrorKind.Unauthorized)
            {
                span?.SetStatus(ActivityStatusCode.Error, e.Message);
                var reason = e.Kind == KlingErrorKind.Unauthorized ? VideoFailureReason.Unauthorized : VideoFailureReason.ProviderRejected;
                GenerationLog.ProviderRefused(logger, command.RequestId, reason, e.Message);
                await ledger.RecordEndedAsync(command.RequestId, cancellationToken);
                await Reject(context, null, reason, e.Message);
                return;
            }
            catch (Exception e)
            {
                span?.SetStatus(ActivityStatusCode.Error, e.Message);
                GenerationLog.CreateFailedTransiently(logger, command.RequestId, e.Message);
                await ledger.ReleaseAsync(command.RequestId, CancellationToken.None);
                throw;
            }
        }

        await ledger.RecordTaskAsync(command.RequestId, created.TaskId, CancellationToken.None);
        metrics.Submitted();
        GenerationLog.TaskCreated(logger, command.RequestId, created.TaskId, command.Mode, command.DurationSeconds);
        await PublishSubmitted(context, created.TaskId);
    }

    private Task PublishSubmitted(ConsumeContext<GenerateVideo> context, string taskId) =>
        context.Publish(new VideoGenerationSubmitted(
            context.Message.RequestId, taskId, time.GetUtcNow(), context.Message.Mode, context.Message.DurationSeconds));

    private Task Reject(ConsumeContext<GenerateVideo> context, string? taskId, VideoFailureReason reason, string message)
    {
        metrics.Failed(reason, tracked: false);
        return context.Publish(new VideoFailed(context.Message.RequestId, taskId, reason, message));
    }

    private static CreateTaskRequest ToKlingRequest(GenerateVideo command) => new(
        command.Image,
        command.Prompt,
        command.Mode.ToString(),
        command.DurationSeconds.ToString(CultureInfo.InvariantCulture),
        command.GuidanceScale,
        command.NegativePrompt);
}
