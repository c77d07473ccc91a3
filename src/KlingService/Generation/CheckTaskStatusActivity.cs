using System.Diagnostics;
using KlingService.Kling;
using KlingService.Telemetry;
using MassTransit;
using Microsoft.Extensions.Options;

namespace KlingService.Generation;

/// <summary>
/// Asks the provider about the task and writes what it says into the saga, with a verdict the
/// state machine acts on. A failed call is only counted (the state machine schedules another check
/// and the job's deadline bounds it), except a task the provider keeps saying it does not know.
/// </summary>
public sealed class CheckTaskStatusActivity(
    IKlingApi kling, IOptionsMonitor<KlingOptions> klingOptions, TimeProvider time, ILogger<CheckTaskStatusActivity> logger)
    : IStateMachineActivity<VideoJobState, CheckVideoStatus>
{
    /// <summary>Consecutive 404s after which the task is taken as lost: a new task may briefly be unknown, not for this long.</summary>
    public const int NotFoundLimit = 5;

    public async Task Execute(BehaviorContext<VideoJobState, CheckVideoStatus> context, IBehavior<VideoJobState, CheckVideoStatus> next)
    {
        var job = context.Saga;
        job.Changed = false;
        job.NextCheckAt = null;
        using (var span = KlingTelemetry.Source.StartActivity(KlingTelemetry.CheckStatusSpan))
        {
            span?.SetTag(KlingTelemetry.TaskIdTag, job.TaskId);
            span?.SetTag(KlingTelemetry.RequestIdTag, job.RequestId);
            span?.SetTag(KlingTelemetry.ModeTag, job.Mode.ToString());
            span?.SetTag(KlingTelemetry.DurationTag, job.DurationSeconds);
            try
            {
                var result = await kling.GetTaskResultAsync(job.TaskId, context.CancellationToken);
                span?.SetTag(KlingTelemetry.StatusTag, result.Task.Status);
                Record(job, result);
            }
            catch (KlingApiException e) when (e.Kind == KlingErrorKind.NotFound && !context.CancellationToken.IsCancellationRequested)
            {
                span?.SetStatus(ActivityStatusCode.Error, e.Message);
                job.ConsecutiveCheckFailures++;
                job.NotFoundChecks++;
                GenerationLog.StatusCheckFailed(logger, job.TaskId, e.Message);
                if (job.NotFoundChecks >= NotFoundLimit)
                {
                    job.Verdict = CheckVerdict.Failed;
                    job.FailureMessage = $"Kling no longer knows task {job.TaskId} ({job.NotFoundChecks} checks in a row answered 404): {e.Message}";
                }
            }
            catch (Exception e) when (!context.CancellationToken.IsCancellationRequested)
            {
                span?.SetStatus(ActivityStatusCode.Error, e.Message);
                job.ConsecutiveCheckFailures++;
                job.NotFoundChecks = 0;
                GenerationLog.StatusCheckFailed(logger, job.TaskId, e.Message);
            }
        }

        await next.Execute(context);
    }

    private void Record(VideoJobState job, TaskResultResponse result)
    {
        var task = result.Task;
        var video = result.Videos?.FirstOrDefault(v => !string.IsNullOrEmpty(v.VideoUrl));
        job.NotFoundChecks = 0;
        if (task.Status == KlingTaskStatus.Succeed && video is null)
        {
            // Success without a video cannot be delivered; treat it as a bad answer and ask again.
            job.ConsecutiveCheckFailures++;
            GenerationLog.StatusCheckFailed(logger, job.TaskId, "the task succeeded but no video was listed");
            return;
        }

        job.ChecksMade++;
        job.ConsecutiveCheckFailures = 0;
        job.Changed = task.Status != job.Status || task.ProgressPercent != job.ProgressPercent;
        job.Status = task.Status;
        job.ProgressPercent = task.ProgressPercent;
        job.EtaSeconds = task.Eta;
        job.Verdict = ProviderStatuses.Verdict(task.Status);

        switch (job.Verdict)
        {
            case CheckVerdict.Succeeded:
                job.VideoUrl = video!.VideoUrl;
                job.VideoType = string.IsNullOrEmpty(video.VideoType) ? "mp4" : video.VideoType;
                job.VideoUrlTtlSeconds = int.TryParse(video.VideoUrlTtl, out var ttl) ? ttl : null;
                break;
            case CheckVerdict.Failed:
                // The provider's words, with the key scrubbed out: they reach the client, logs and spans.
                var reason = string.IsNullOrWhiteSpace(task.Reason)
                    ? "The provider reported the task ended without a reason."
                    : ProviderText.Scrub(task.Reason, klingOptions.CurrentValue.ApiKey);
                job.FailureMessage = task.Status == KlingTaskStatus.Failed ? reason : $"Kling ended the task as {task.Status}: {reason}";
                break;
            case CheckVerdict.Running when !ProviderStatuses.IsKnown(task.Status):
                GenerationLog.UnknownStatus(logger, job.TaskId, task.Status);
                break;
        }

        if (job.Verdict == CheckVerdict.Running)
        {
            TimingObservation.NoteRunning(job, time.GetUtcNow());
        }
    }

    public Task Faulted<TException>(
        BehaviorExceptionContext<VideoJobState, CheckVideoStatus, TException> context,
        IBehavior<VideoJobState, CheckVideoStatus> next)
        where TException : Exception => next.Faulted(context);

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);

    public void Probe(ProbeContext context) => context.CreateScope("check-task-status");
}
