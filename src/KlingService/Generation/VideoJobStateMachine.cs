using KlingService.Contracts;
using KlingService.Kling;
using KlingService.Telemetry;
using MassTransit;
using Microsoft.Extensions.Options;

namespace KlingService.Generation;

/// <summary>
/// Tracks one Kling task from submission to its end: polls on a schedule aimed at the provider's
/// eta, tells subscribers of progress, and publishes exactly one VideoReady or VideoFailed.
/// </summary>
public sealed class VideoJobStateMachine : MassTransitStateMachine<VideoJobState>
{
    public VideoJobStateMachine(
        StatusCheckPolicy policy, IOptions<GenerationOptions> options, TimeProvider time, KlingMetrics metrics, ILogger<VideoJobStateMachine> logger)
    {
        InstanceState(x => x.CurrentState);

        Event(() => Submitted, e =>
        {
            e.CorrelateById(context => TaskCorrelation.FromTaskId(context.Message.TaskId));
            e.InsertOnInitial = true;
            e.SetSagaFactory(context => new VideoJobState
            {
                CorrelationId = TaskCorrelation.FromTaskId(context.Message.TaskId),
                TaskId = context.Message.TaskId,
            });
        });
        Schedule(() => StatusCheck, x => x.StatusCheckTokenId, s =>
        {
            s.Delay = policy.FirstCheck();
            s.Received = r =>
            {
                r.CorrelateById(context => context.Message.CorrelationId);
                r.OnMissingInstance(m => m.Discard());
            };
        });
        Schedule(() => Deadline, x => x.DeadlineTokenId, s =>
        {
            s.Delay = options.Value.JobDeadline;
            s.Received = r =>
            {
                r.CorrelateById(context => context.Message.CorrelationId);
                r.OnMissingInstance(m => m.Discard());
            };
        });

        Initially(
            When(Submitted)
                .Then(context =>
                {
                    var job = context.Saga;
                    job.RequestId = context.Message.RequestId;
                    job.Mode = context.Message.Mode;
                    job.DurationSeconds = context.Message.DurationSeconds;
                    job.SubmittedAt = context.Message.SubmittedAt;
                    metrics.Started();
                })
                .Schedule(StatusCheck, context => new CheckVideoStatus(context.Saga.CorrelationId, context.Saga.TaskId))
                .Schedule(Deadline, context => new VideoJobDeadlineExpired(context.Saga.CorrelationId, context.Saga.TaskId),
                    context => DeadlineDelay(context.Saga, options.Value, time))
                .TransitionTo(Generating));

        During(Generating,
            // Submitted again: a repeated command, or a redelivery after a crash that may have
            // lost the schedules made the first time. Arm both again: a check soon, and the
            // deadline at the same absolute time, so nothing is lost and nothing is extended.
            When(Submitted)
                .Schedule(StatusCheck, context => new CheckVideoStatus(context.Saga.CorrelationId, context.Saga.TaskId),
                    context => policy.NextCheck(context.Saga))
                .Schedule(Deadline, context => new VideoJobDeadlineExpired(context.Saga.CorrelationId, context.Saga.TaskId),
                    context => DeadlineDelay(context.Saga, options.Value, time)),
            When(StatusCheck.Received)
                .Activity(x => x.OfType<CheckTaskStatusActivity>())
                .IfElse(context => context.Saga.Status == KlingTaskStatus.Succeed,
                    ready => ready
                        .Then(context =>
                        {
                            var taken = time.GetUtcNow() - context.Saga.SubmittedAt;
                            GenerationLog.TaskSucceeded(logger, context.Saga.TaskId, context.Saga.RequestId, taken);
                            metrics.Succeeded(taken, context.Saga.ChecksMade);
                        })
                        .Publish(context => Ready(context.Saga, time.GetUtcNow()))
                        .Unschedule(Deadline)
                        .ThenAsync(RecordEnded)
                        .Finalize(),
                    notReady => notReady.IfElse(context => context.Saga.Status == KlingTaskStatus.Failed,
                        failed => failed
                            .Then(context =>
                            {
                                GenerationLog.TaskFailed(logger, context.Saga.TaskId, context.Saga.RequestId, VideoFailureReason.GenerationFailed, context.Saga.FailureMessage!);
                                metrics.Failed(VideoFailureReason.GenerationFailed, tracked: true, context.Saga.ChecksMade);
                            })
                            .Publish(context => new VideoFailed(context.Saga.RequestId, context.Saga.TaskId, VideoFailureReason.GenerationFailed, context.Saga.FailureMessage!))
                            .Unschedule(Deadline)
                            .ThenAsync(RecordEnded)
                            .Finalize(),
                        running => running
                            .If(context => context.Saga.Changed, changed => changed
                                .Then(context => GenerationLog.TaskProgressed(logger, context.Saga.TaskId, context.Saga.RequestId, context.Saga.Status!, context.Saga.ProgressPercent, context.Saga.EtaSeconds))
                                .Publish(context => new VideoGenerationProgressed(
                                    context.Saga.RequestId, context.Saga.TaskId, context.Saga.Status!, context.Saga.ProgressPercent, context.Saga.EtaSeconds)))
                            .Schedule(StatusCheck,
                                context => new CheckVideoStatus(context.Saga.CorrelationId, context.Saga.TaskId),
                                context => policy.NextCheck(context.Saga)))),
            When(Deadline.Received)
                .Then(context =>
                {
                    GenerationLog.TaskFailed(logger, context.Saga.TaskId, context.Saga.RequestId, VideoFailureReason.TimedOut, TimedOutMessage(options.Value));
                    metrics.Failed(VideoFailureReason.TimedOut, tracked: true, context.Saga.ChecksMade);
                })
                .Publish(context => new VideoFailed(context.Saga.RequestId, context.Saga.TaskId, VideoFailureReason.TimedOut, TimedOutMessage(options.Value)))
                .Unschedule(StatusCheck)
                .ThenAsync(RecordEnded)
                .Finalize());

        SetCompletedWhenFinalized();
    }

    public State Generating { get; private set; } = null!;

    public Event<VideoGenerationSubmitted> Submitted { get; private set; } = null!;

    public Schedule<VideoJobState, CheckVideoStatus> StatusCheck { get; private set; } = null!;

    public Schedule<VideoJobState, VideoJobDeadlineExpired> Deadline { get; private set; } = null!;

    private static VideoReady Ready(VideoJobState job, DateTimeOffset now) => new(
        job.RequestId,
        job.TaskId,
        job.VideoUrl!,
        job.VideoUrlTtlSeconds is { } ttl ? now.AddSeconds(ttl) : null,
        job.VideoType ?? "mp4",
        now - job.SubmittedAt);

    private static TimeSpan DeadlineDelay(VideoJobState job, GenerationOptions options, TimeProvider time)
    {
        var left = job.SubmittedAt + options.JobDeadline - time.GetUtcNow();
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private static string TimedOutMessage(GenerationOptions options) =>
        $"The task did not finish within the job deadline of {options.JobDeadline}.";

    private static async Task RecordEnded<T>(BehaviorContext<VideoJobState, T> context)
        where T : class =>
        await context.GetServiceOrCreateInstance<IRequestLedger>().RecordEndedAsync(context.Saga.RequestId, context.CancellationToken);
}
