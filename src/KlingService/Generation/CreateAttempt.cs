using System.Diagnostics;
using System.Globalization;
using KlingService.Contracts;
using KlingService.Kling;
using KlingService.Telemetry;
using Microsoft.Extensions.Options;

namespace KlingService.Generation;

/// <summary>
/// One create attempt on a claimed request: the paid call, if <see cref="CreateOutcome"/> allows it, then what its
/// outcome calls for (record the task, postpone, or end the request), every write under the attempt's claim.
/// </summary>
public sealed class CreateAttempt(
    IRequestLedger ledger,
    InFlightClaims claims,
    ProviderAccess access,
    IKlingApi kling,
    CreatedTaskRecorder recorder,
    AnnouncementPublisher announcements,
    IOptions<GenerationOptions> generationOptions,
    TimeProvider time,
    KlingMetrics metrics,
    ILogger<CreateAttempt> logger)
{
    private const string Repeating = "repeating it, as Generation:RetryAmbiguousCreates allows";
    private const string NotRepeated = "not repeated";

    private readonly GenerationOptions _options = generationOptions.Value;

    /// <param name="job">The request, as claimed.</param>
    /// <param name="renewal">Keeps the claim alive; ended once the task is recorded (the request holds its slot through its task then).</param>
    /// <param name="stoppingToken">The service is stopping: a call already sent is still seen through.</param>
    public async Task RunAsync(PendingCreate job, CancellationTokenSource renewal, CancellationToken stoppingToken)
    {
        var command = job.Command;
        ActivityContext.TryParse(job.TraceParent, null, out var parent);
        using var span = KlingTelemetry.Source.StartActivity(KlingTelemetry.CreateTaskSpan, ActivityKind.Internal, parent);
        var waited = time.GetUtcNow() - job.AdmittedAt;
        span?.SetTag(KlingTelemetry.RequestIdTag, command.RequestId);
        span?.SetTag(KlingTelemetry.ModeTag, command.Mode.ToString());
        span?.SetTag(KlingTelemetry.DurationTag, command.DurationSeconds);
        span?.SetTag(KlingTelemetry.AttemptTag, job.FailedAttempts + 1);
        span?.SetTag(KlingTelemetry.BacklogWaitTag, Math.Max(0, waited.TotalSeconds));

        var beforeCall = CreateOutcome.BeforeCall(job.Cancelled, job.Abandoned, _options);
        if (beforeCall is CreateDecision.Call { RepeatsUnknownOutcome: true } or CreateDecision.End { Reason: VideoFailureReason.CreateOutcomeUnknown })
        {
            // An earlier holder may have created a task.
            var repeated = beforeCall is CreateDecision.Call;
            metrics.OutcomeUnknown(repeated);
            GenerationLog.ClaimAbandoned(logger, command.RequestId, repeated ? Repeating : NotRepeated);
        }

        if (beforeCall is CreateDecision.End end)
        {
            await EndAsync(job, end, stoppingToken);
            return;
        }

        var result = await CallAsync(command, span);
        var decision = CreateOutcome.AfterCall(result, Facts(job), _options);
        if (decision is CreateDecision.Record record)
        {
            // Logged at once: from here on this id is money, and the log keeps it whatever happens next.
            span?.SetTag(KlingTelemetry.TaskIdTag, record.TaskId);
            GenerationLog.TaskCreated(logger, command.RequestId, record.TaskId, command.Mode, command.DurationSeconds);
            if (access.Accepted())
            {
                GenerationLog.KeyAccepted(logger);
            }

            await recorder.RecordAndAnnounceAsync(job, record.TaskId, waited, renewal, stoppingToken);
            return;
        }

        await CarryOutAsync(job, result.Failure!, decision, stoppingToken);
    }

    private async Task<CreateCallResult> CallAsync(GenerateVideo command, Activity? span)
    {
        try
        {
            // Not cancelled when the service stops: once sent, a paid call is seen through so its
            // task id is kept; CreateTimeout still bounds it.
            var created = await kling.CreateTaskAsync(ToKlingRequest(command), CancellationToken.None);
            return string.IsNullOrWhiteSpace(created?.TaskId)
                ? throw new KlingApiException(KlingErrorKind.Transient, System.Net.HttpStatusCode.OK, "Kling answered 200 without a task id.", delivery: CallDelivery.Unknown)
                : CreateCallResult.Created(created.TaskId);
        }
        catch (Exception e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.Message);
            var failure = CreateFailure.Of(e);
            if (failure.BreaksRunOfRefusals)
            {
                access.AnsweredWithoutRefusal();
            }

            return CreateCallResult.Failed(failure);
        }
    }

    private CreateAttemptFacts Facts(PendingCreate job)
    {
        var now = time.GetUtcNow();
        var refusedFor = access.RefusedUnbrokenSince is { } since ? now - since : TimeSpan.Zero;
        return new CreateAttemptFacts(job.FailedAttempts, now - job.AdmittedAt, refusedFor, Random.Shared.NextDouble());
    }

    /// <summary>Does what a failed call's decision says, telling the launcher what it learned of the account and the key.</summary>
    private async Task CarryOutAsync(PendingCreate job, CreateFailure failure, CreateDecision decision, CancellationToken stoppingToken)
    {
        var requestId = job.Command.RequestId;
        if (failure.Kind == CreateFailureKind.Unauthorized)
        {
            metrics.KeyRefused();
        }

        if (failure.Kind == CreateFailureKind.Ambiguous)
        {
            var repeated = decision is not CreateDecision.End { Reason: VideoFailureReason.CreateOutcomeUnknown };
            metrics.OutcomeUnknown(repeated);
            GenerationLog.CreateOutcomeUnknown(logger, requestId, repeated ? Repeating : NotRepeated, failure.Message);
        }

        switch (decision)
        {
            case CreateDecision.Postpone { Cause: PostponeCause.AccountBusy } busy:
                access.Busy(busy.Delay);
                GenerationLog.ProviderBusy(logger, requestId, busy.Delay);
                await PostponeAsync(job, busy, stoppingToken);
                return;
            case CreateDecision.Postpone { Cause: PostponeCause.KeyRefused } refused:
                var pause = access.Refused(_options.CreateRetryMinInterval, _options.CreateRetryMaxInterval);
                GenerationLog.KeyRefused(logger, requestId, pause, failure.Message);
                await PostponeAsync(job, refused, stoppingToken);
                return;
            case CreateDecision.Postpone transient:
                GenerationLog.CreateFailedTransiently(logger, requestId, job.FailedAttempts + 1, transient.Delay, failure.Message);
                await PostponeAsync(job, transient, stoppingToken);
                return;
            case CreateDecision.End end:
                if (end.Reason is VideoFailureReason.ProviderRejected or VideoFailureReason.Unauthorized)
                {
                    GenerationLog.ProviderRefused(logger, requestId, end.Reason, failure.Message);
                }
                else if (end.Reason == VideoFailureReason.ProviderUnavailable)
                {
                    GenerationLog.GaveUp(logger, requestId, failure.Message);
                }

                await EndAsync(job, end, stoppingToken);
                return;
        }
    }

    /// <summary>Returns the request to the backlog; a database blip is retried, so the claim does not lapse into an unknown outcome.</summary>
    private Task PostponeAsync(PendingCreate job, CreateDecision.Postpone postpone, CancellationToken stoppingToken) =>
        Backoff.RetryAsync(
            async token => await ledger.PostponeAsync(job.Command.RequestId, claims.ClaimOf(job), postpone.Delay, postpone.CountsAsAttempt, token),
            (e, _) => GenerationLog.LaunchFailed(logger, e.Message),
            time,
            stoppingToken);

    private async Task EndAsync(PendingCreate job, CreateDecision.End end, CancellationToken stoppingToken)
    {
        var requestId = job.Command.RequestId;
        var answer = new VideoFailed(requestId, null, end.Reason, end.Message);
        var ended = false;
        await Backoff.RetryAsync(
            async token => ended = await ledger.EndWithoutTaskAsync(requestId, claims.ClaimOf(job), answer, token),
            (e, _) => GenerationLog.LaunchFailed(logger, e.Message),
            time,
            stoppingToken);
        if (!ended)
        {
            // The claim was lost (whoever holds the request now answers for it), or the client
            // cancelled and already has its answer.
            GenerationLog.NotEndedHere(logger, requestId, end.Reason);
            return;
        }

        metrics.Failed(end.Reason, tracked: false);
        await announcements.PublishAsync(answer, null, requestId, stoppingToken);
    }

    private static CreateTaskRequest ToKlingRequest(GenerateVideo command) => new(
        command.Image,
        command.Prompt,
        command.Mode.ToString(),
        command.DurationSeconds.ToString(CultureInfo.InvariantCulture),
        command.GuidanceScale,
        command.NegativePrompt);
}
