using KlingService.Contracts;
using KlingService.Storage;
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
        StatusCheckPolicy policy,
        StatusCheckPlanner planner,
        IOptions<GenerationOptions> options,
        IOptions<StorageOptions> storage,
        TimeProvider time,
        KlingMetrics metrics,
        ILogger<VideoJobStateMachine> logger)
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
        Event(() => Silence, e =>
        {
            e.CorrelateById(context => context.Message.CorrelationId);
            e.OnMissingInstance(m => m.Discard());
        });
        Event(() => Stored, e =>
        {
            e.CorrelateById(context => context.Message.CorrelationId);
            // A late answer after the store timeout, or one made up for a job that is not there.
            e.OnMissingInstance(m => m.Execute(context => RejectStored(context.Message, BusRejection.UnknownJob)));
        });
        Event(() => Rearm, e =>
        {
            e.CorrelateById(context => context.Message.CorrelationId);
            e.OnMissingInstance(m => m.Discard());
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
                .IfElseAsync(context => StartsALifeAsync(context),
                    start => start
                        .Then(context =>
                        {
                            var job = context.Saga;
                            job.RequestId = context.Message.RequestId;
                            job.Mode = context.Message.Mode;
                            job.DurationSeconds = context.Message.DurationSeconds;
                            job.SubmittedAt = context.Message.SubmittedAt;
                            metrics.Started();
                        })
                        .ThenAsync(context => planner.PlanFirstAsync(context.Saga, context.CancellationToken))
                        .Schedule(StatusCheck, context => new CheckVideoStatus(context.Saga.CorrelationId, context.Saga.TaskId),
                            context => planner.UntilNextCheck(context.Saga))
                        .Schedule(Deadline, context => new VideoJobDeadlineExpired(context.Saga.CorrelationId, context.Saga.TaskId),
                            context => DeadlineDelay(context.Saga, options.Value, time))
                        .TransitionTo(Generating),
                    // A late Submitted (a duplicate, or a re-announcement racing the final check) of a
                    // job that ended, or of a task the ledger did not record for the request (forged):
                    // a job that ended stays ended, and no task starts a life the ledger does not know.
                    late => late
                        .Then(context =>
                        {
                            GenerationLog.LateSubmittedIgnored(logger, context.Message.TaskId, context.Message.RequestId);
                            metrics.BusRejected(nameof(VideoGenerationSubmitted), BusRejection.UnknownJob);
                        })
                        .Finalize()));

        During(Generating,
            // Submitted again: a repeated command, or the sweeper after a crash that may have lost the
            // schedules made the first time. Only a check that is missing or overdue is armed again, so
            // a client resending its command can never push the check later; the deadline keeps its
            // absolute time.
            When(Submitted, context => CheckIsMissing(context.Saga, options.Value, time))
                .Then(context => context.Saga.NextCheckAt = time.GetUtcNow() + policy.NextCheck(context.Saga))
                .Schedule(StatusCheck, context => new CheckVideoStatus(context.Saga.CorrelationId, context.Saga.TaskId),
                    context => policy.NextCheck(context.Saga))
                .Schedule(Deadline, context => new VideoJobDeadlineExpired(context.Saga.CorrelationId, context.Saga.TaskId),
                    context => DeadlineDelay(context.Saga, options.Value, time)),
            When(Submitted, context => !CheckIsMissing(context.Saga, options.Value, time))
                .Then(context => GenerationLog.DuplicateRequest(logger, context.Saga.RequestId, AdmissionStatus.Submitted)),
            When(Silence)
                .Then(context => context.Saga.Cancelled = true),
            // The sweeper saw the scheduler holds no check, or no deadline, for this job: arm what is
            // missing, and only that. Its flag may be stale by now (or the message not the sweeper's), so
            // the check goes back no later than the time the job itself planned (sooner when the plain
            // policy says so): a pending check is never pushed back, an overdue one runs at once.
            When(Rearm, context => context.Message.CheckMissing)
                .Then(context => context.Saga.NextCheckAt = RearmedCheckAt(context.Saga))
                .Schedule(StatusCheck, context => new CheckVideoStatus(context.Saga.CorrelationId, context.Saga.TaskId),
                    context => context.Saga.NextCheckAt!.Value - time.GetUtcNow()),
            When(Rearm, context => context.Message.DeadlineMissing)
                .Schedule(Deadline, context => new VideoJobDeadlineExpired(context.Saga.CorrelationId, context.Saga.TaskId),
                    context => DeadlineDelay(context.Saga, options.Value, time)),
            // Nothing said to be missing (the bus is not trusted): nothing to do, and no fault.
            Ignore(Rearm, context => !context.Message.CheckMissing && !context.Message.DeadlineMissing),
            When(StatusCheck.Received)
                .Activity(x => x.OfType<CheckTaskStatusActivity>())
                .IfElse(context => context.Saga.Verdict == CheckVerdict.Succeeded,
                    ready => ready
                        .Then(context =>
                        {
                            var job = context.Saga;
                            job.SucceededAt = time.GetUtcNow();
                            job.VideoUrlExpiresAt = job.VideoUrlTtlSeconds is { } ttl ? job.SucceededAt.Value.AddSeconds(ttl) : null;
                            var taken = job.SucceededAt.Value - job.SubmittedAt;
                            GenerationLog.TaskSucceeded(logger, job.TaskId, job.RequestId, taken);
                            metrics.Succeeded(taken, job.ChecksMade);
                        })
                        .ThenAsync(context => planner.RecordSucceededAsync(context.Saga, context.CancellationToken))
                        .IfElse(_ => storage.Value.Enabled,
                            // Keep the paid video before telling anyone: the copy runs outside this transaction
                            // and answers with VideoStored; the deadline becomes the longest wait for that answer.
                            store => store
                                .Then(context =>
                                {
                                    context.Saga.StoreGiveUpAt = StoreGiveUpAt(context.Saga, storage.Value);
                                    // Random, not NewId's sequential ids: a token that could be guessed would prove nothing.
                                    context.Saga.StoreToken = Guid.NewGuid();
                                })
                                .ThenAsync(context => context.GetServiceOrCreateInstance<IRequestLedger>()
                                    .RecordTaskFinishedAsync(context.Saga.RequestId, context.Saga.Status, context.CancellationToken).AsTask())
                                .Publish(context => new StoreVideo(
                                    context.Saga.CorrelationId, context.Saga.RequestId, context.Saga.TaskId, context.Saga.VideoUrl!,
                                    context.Saga.VideoUrlExpiresAt, context.Saga.StoreGiveUpAt!.Value, context.Saga.StoreToken!.Value))
                                .Schedule(Deadline, context => new VideoJobDeadlineExpired(context.Saga.CorrelationId, context.Saga.TaskId),
                                    context => StoreAnswerDelay(context.Saga, storage.Value, time))
                                .TransitionTo(Storing),
                            deliver => deliver
                                .ThenAsync(context => EndAsync(context, Ready(context.Saga, stored: null)))
                                .Unschedule(Deadline)
                                .Finalize()),
                    notReady => notReady.IfElse(context => context.Saga.Verdict == CheckVerdict.Failed,
                        failed => failed
                            .Then(context =>
                            {
                                GenerationLog.TaskFailed(logger, context.Saga.TaskId, context.Saga.RequestId, VideoFailureReason.GenerationFailed, context.Saga.FailureMessage!);
                                metrics.Failed(VideoFailureReason.GenerationFailed, tracked: true, context.Saga.ChecksMade);
                            })
                            // The record keeps the provider's final word (failed, or cancelled on its side) for the status query.
                            .ThenAsync(RecordProgressAsync)
                            .ThenAsync(context => EndAsync(
                                context, new VideoFailed(context.Saga.RequestId, context.Saga.TaskId, VideoFailureReason.GenerationFailed, context.Saga.FailureMessage!)))
                            .Unschedule(Deadline)
                            .Finalize(),
                        running => running.IfElse(context => DeadlinePassed(context.Saga, options.Value, time),
                            // Every check looks at the deadline too, so a lost deadline message cannot keep a job alive.
                            late => late
                                .Then(context => TimedOut(context.Saga))
                                .ThenAsync(context => EndAsync(context, TimedOutEvent(context.Saga)))
                                .Unschedule(Deadline)
                                .Finalize(),
                            onTime => onTime
                                .ThenAsync(RecordProgressAsync)
                                .If(context => context.Saga.Changed && !context.Saga.Cancelled, changed => changed
                                    .Then(context => GenerationLog.TaskProgressed(logger, context.Saga.TaskId, context.Saga.RequestId, context.Saga.Status!, context.Saga.ProgressPercent, context.Saga.EtaSeconds))
                                    .Publish(context => new VideoGenerationProgressed(
                                        context.Saga.RequestId, context.Saga.TaskId, context.Saga.Status!, context.Saga.ProgressPercent, context.Saga.EtaSeconds)))
                                .ThenAsync(context => planner.PlanNextAsync(context.Saga, context.CancellationToken))
                                .Schedule(StatusCheck,
                                    context => new CheckVideoStatus(context.Saga.CorrelationId, context.Saga.TaskId),
                                    context => planner.UntilNextCheck(context.Saga))))),
            // A task that finished in the seconds since the last check is paid for: one last look before
            // giving up, through the check itself (its running branch ends the job as TimedOut), with the
            // deadline re-armed once as the bound on that look.
            When(Deadline.Received, context => !LastLookOver(context.Saga, options.Value, time))
                .Then(context => context.Saga.NextCheckAt = time.GetUtcNow())
                .Schedule(StatusCheck, context => new CheckVideoStatus(context.Saga.CorrelationId, context.Saga.TaskId), _ => TimeSpan.Zero)
                .Schedule(Deadline, context => new VideoJobDeadlineExpired(context.Saga.CorrelationId, context.Saga.TaskId), _ => options.Value.MaxCheckInterval),
            When(Deadline.Received, context => LastLookOver(context.Saga, options.Value, time))
                .Then(context => TimedOut(context.Saga))
                .ThenAsync(context => EndAsync(context, TimedOutEvent(context.Saga)))
                .Unschedule(StatusCheck)
                .Finalize(),
            // No copy was asked for: whatever sent this, it is not an answer.
            When(Stored)
                .Then(context => RejectStored(context.Message, BusRejection.NotStoring)));

        During(Storing,
            When(Stored, context => AnswersOwnStoreVideo(context.Saga, context.Message))
                .ThenAsync(context => EndAsync(context, Ready(context.Saga, context.Message.Video)))
                .Unschedule(Deadline)
                .Finalize(),
            // Not the answer to this job's StoreVideo: the job keeps waiting for its own copy (or its timer).
            When(Stored, context => !AnswersOwnStoreVideo(context.Saga, context.Message))
                .Then(context => RejectStored(context.Message, BusRejection.WrongToken)),
            // The copy never answered (its message lost to an error queue, say): the video is delivered as it is.
            When(Deadline.Received)
                .Then(context =>
                {
                    StorageLog.StoreAnswerMissing(logger, context.Saga.TaskId);
                    metrics.VideoNotStored(StoreFailureReason.TimedOut);
                })
                .ThenAsync(context => EndAsync(context, Ready(context.Saga, stored: null)))
                .Finalize(),
            When(Silence)
                .Then(context => context.Saga.Cancelled = true),
            When(Rearm, context => context.Message.DeadlineMissing)
                .Schedule(Deadline, context => new VideoJobDeadlineExpired(context.Saga.CorrelationId, context.Saga.TaskId),
                    context => StoreAnswerDelay(context.Saga, storage.Value, time)),
            Ignore(Rearm, context => !context.Message.DeadlineMissing),
            Ignore(Submitted),
            Ignore(StatusCheck.Received));

        DateTimeOffset RearmedCheckAt(VideoJobState job)
        {
            var now = time.GetUtcNow();
            var unlearned = now + policy.NextCheck(job);
            return job.NextCheckAt is { } planned ? (planned < now ? now : planned < unlearned ? planned : unlearned) : unlearned;
        }

        void TimedOut(VideoJobState job)
        {
            GenerationLog.TaskFailed(logger, job.TaskId, job.RequestId, VideoFailureReason.TimedOut, TimedOutMessage(options.Value));
            metrics.Failed(VideoFailureReason.TimedOut, tracked: true, job.ChecksMade);
        }

        void RejectStored(VideoStored message, BusRejection reason)
        {
            metrics.BusRejected(nameof(VideoStored), reason);
            StorageLog.VideoStoredRejected(logger, message.TaskId, message.CorrelationId, reason);
        }

        VideoFailed TimedOutEvent(VideoJobState job) =>
            new(job.RequestId, job.TaskId, VideoFailureReason.TimedOut, TimedOutMessage(options.Value));

        SetCompletedWhenFinalized();
    }

    public State Generating { get; private set; } = null!;

    /// <summary>The task succeeded and its video is being copied into the artifact store.</summary>
    public State Storing { get; private set; } = null!;

    public Event<VideoStored> Stored { get; private set; } = null!;

    public Event<VideoGenerationSubmitted> Submitted { get; private set; } = null!;

    public Event<RearmVideoJob> Rearm { get; private set; } = null!;

    public Event<SilenceVideoJob> Silence { get; private set; } = null!;

    public Schedule<VideoJobState, CheckVideoStatus> StatusCheck { get; private set; } = null!;

    public Schedule<VideoJobState, VideoJobDeadlineExpired> Deadline { get; private set; } = null!;

    private static VideoReady Ready(VideoJobState job, StoredVideo? stored) => new(
        job.RequestId,
        job.TaskId,
        job.VideoUrl!,
        job.VideoUrlExpiresAt,
        job.VideoType ?? "mp4",
        job.SucceededAt!.Value - job.SubmittedAt,
        stored?.Url,
        stored?.Key,
        stored?.SizeBytes,
        stored?.Sha256);

    private static bool AnswersOwnStoreVideo(VideoJobState job, VideoStored answer) =>
        job.StoreToken is { } token && answer.StoreToken == token;

    /// <summary>Tries stop when the provider's URL expires, or after <c>Storage:StoreTimeout</c>, whichever comes first.</summary>
    private static DateTimeOffset StoreGiveUpAt(VideoJobState job, StorageOptions storage)
    {
        var timeout = job.SucceededAt!.Value + storage.StoreTimeout;
        return job.VideoUrlExpiresAt is { } expires && expires < timeout ? expires : timeout;
    }

    /// <summary>
    /// How long to wait for the copy's answer: past the give-up time by one try's bound (a try under way may still
    /// finish) and a minute for the answer to travel.
    /// </summary>
    private static TimeSpan StoreAnswerDelay(VideoJobState job, StorageOptions storage, TimeProvider time)
    {
        var left = job.StoreGiveUpAt!.Value + storage.AttemptTimeout + TimeSpan.FromMinutes(1) - time.GetUtcNow();
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>
    /// A check is missing when none was armed, or when the armed one is overdue by more than the
    /// longest interval between checks (lost between a commit and the scheduler).
    /// </summary>
    private static bool CheckIsMissing(VideoJobState job, GenerationOptions options, TimeProvider time) =>
        job.NextCheckAt is not { } due || time.GetUtcNow() > due + options.MaxCheckInterval;

    private static bool DeadlinePassed(VideoJobState job, GenerationOptions options, TimeProvider time) =>
        time.GetUtcNow() >= job.SubmittedAt + options.JobDeadline;

    /// <summary>The last look the deadline granted (one check, bounded by <see cref="GenerationOptions.MaxCheckInterval"/>) is over.</summary>
    private static bool LastLookOver(VideoJobState job, GenerationOptions options, TimeProvider time) =>
        time.GetUtcNow() >= job.SubmittedAt + options.JobDeadline + options.MaxCheckInterval;

    /// <summary>
    /// A Submitted starts a job only for the task the ledger recorded for its request, and only while
    /// the request has not ended: anyone can publish on the bus, and a made-up task id for a waiting
    /// request would otherwise start a life that ends in 404s while its real task is never created.
    /// </summary>
    private static async Task<bool> StartsALifeAsync(BehaviorContext<VideoJobState, VideoGenerationSubmitted> context)
    {
        var entry = await context.GetServiceOrCreateInstance<IRequestLedger>().FindAsync(context.Message.RequestId, context.CancellationToken);
        // A request cancelled while its task was being created is followed without a word.
        context.Saga.Cancelled = entry?.Cancelled ?? false;
        return entry is { Ended: false } && entry.TaskId == context.Message.TaskId;
    }

    /// <summary>
    /// Ends the job: the record keeps the terminal event (for the status query and replay) and the
    /// client hears it, unless it cancelled and has had its answer already.
    /// </summary>
    private static async Task EndAsync<TMessage, TEvent>(BehaviorContext<VideoJobState, TMessage> context, TEvent terminal)
        where TMessage : class
        where TEvent : class
    {
        var outcome = terminal switch
        {
            VideoReady ready => JobOutcome.Of(ready),
            VideoFailed failed => JobOutcome.Of(failed),
            _ => throw new ArgumentException($"{typeof(TEvent).Name} is not a terminal event.", nameof(terminal)),
        };
        // The ledger decides under the request's lock: a cancel that came first has answered the client.
        // A retried end publishes exactly the outcome recorded first, so a later replay matches it.
        var answer = await context.GetServiceOrCreateInstance<IRequestLedger>().RecordEndedAsync(context.Saga.RequestId, outcome, context.CancellationToken);
        if (answer is not null && !context.Saga.Cancelled)
        {
            await context.Publish(answer.Event, context.CancellationToken);
        }
    }

    private static async Task RecordProgressAsync(BehaviorContext<VideoJobState, CheckVideoStatus> context)
    {
        var cancelled = await context.GetServiceOrCreateInstance<IRequestLedger>().RecordProgressAsync(
            context.Saga.RequestId, context.Saga.Status, context.Saga.ProgressPercent, context.Saga.EtaSeconds, context.CancellationToken);
        // A cancel may have come before its SilenceVideoJob reached this job: the ledger knows.
        context.Saga.Cancelled |= cancelled;
    }

    private static TimeSpan DeadlineDelay(VideoJobState job, GenerationOptions options, TimeProvider time)
    {
        var left = job.SubmittedAt + options.JobDeadline - time.GetUtcNow();
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private static string TimedOutMessage(GenerationOptions options) =>
        $"The task did not finish within the job deadline of {options.JobDeadline}.";
}
