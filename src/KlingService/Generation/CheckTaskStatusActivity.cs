using System.Diagnostics;
using KlingService.Kling;
using KlingService.Telemetry;
using MassTransit;

namespace KlingService.Generation;

/// <summary>
/// Asks the provider about the task and writes what it says into the saga. A failed call is only
/// counted: the state machine schedules another check, and the job's deadline is what ends it.
/// </summary>
public sealed class CheckTaskStatusActivity(IKlingApi kling, ILogger<CheckTaskStatusActivity> logger)
    : IStateMachineActivity<VideoJobState, CheckVideoStatus>
{
    public async Task Execute(BehaviorContext<VideoJobState, CheckVideoStatus> context, IBehavior<VideoJobState, CheckVideoStatus> next)
    {
        var job = context.Saga;
        job.Changed = false;
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
            catch (Exception e) when (!context.CancellationToken.IsCancellationRequested)
            {
                span?.SetStatus(ActivityStatusCode.Error, e.Message);
                job.ConsecutiveCheckFailures++;
                GenerationLog.StatusCheckFailed(logger, job.TaskId, e.Message);
            }
        }

        await next.Execute(context);
    }

    private void Record(VideoJobState job, TaskResultResponse result)
    {
        var task = result.Task;
        var video = result.Videos?.FirstOrDefault(v => !string.IsNullOrEmpty(v.VideoUrl));
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

        switch (task.Status)
        {
            case KlingTaskStatus.Succeed:
                job.VideoUrl = video!.VideoUrl;
                job.VideoType = string.IsNullOrEmpty(video.VideoType) ? "mp4" : video.VideoType;
                job.VideoUrlTtlSeconds = int.TryParse(video.VideoUrlTtl, out var ttl) ? ttl : null;
                break;
            case KlingTaskStatus.Failed:
                job.FailureMessage = string.IsNullOrWhiteSpace(task.Reason) ? "The provider reported the task failed without a reason." : task.Reason;
                break;
            case KlingTaskStatus.Queued or KlingTaskStatus.Processing:
                break;
            default:
                GenerationLog.UnknownStatus(logger, job.TaskId, task.Status);
                break;
        }
    }

    public Task Faulted<TException>(
        BehaviorExceptionContext<VideoJobState, CheckVideoStatus, TException> context,
        IBehavior<VideoJobState, CheckVideoStatus> next)
        where TException : Exception => next.Faulted(context);

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);

    public void Probe(ProbeContext context) => context.CreateScope("check-task-status");
}
