using System.Diagnostics;
using System.Globalization;
using KlingService.Contracts;
using KlingService.Kling;
using KlingService.Telemetry;
using MassTransit;
using Microsoft.Extensions.Options;

namespace KlingService.Generation;

/// <summary>
/// Creates the Kling task of each admitted request as soon as one of the account's slots is free,
/// oldest first, on every instance (the ledger hands each request and slot to one of them, under a
/// claim that this launcher renews while the call runs). What a failed call proves decides what
/// happens next (<see cref="CreateFailures"/>): a call is repeated only when nothing was created.
/// </summary>
public sealed class TaskLauncher(
    IRequestLedger ledger,
    LauncherSignal signal,
    ProviderAccess access,
    IKlingApi kling,
    IBus bus,
    IOptions<KlingOptions> klingOptions,
    IOptions<GenerationOptions> generationOptions,
    TimeProvider time,
    KlingMetrics metrics,
    ILogger<TaskLauncher> logger) : BackgroundService
{
    // Slots freed on other instances are seen at the next look; local ones wake the launcher at once.
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    // A claim is renewed a few times per lease while its call runs, so only a dead (or cut-off)
    // holder lets it lapse.
    private static readonly TimeSpan ClaimLease = TimeSpan.FromSeconds(30);

    private readonly GenerationOptions _options = generationOptions.Value;
    private readonly KlingOptions _kling = klingOptions.Value;

    // The claim each of this instance's running attempts writes under, by request. A claim that
    // lapsed while the database was away may come back to this instance as "abandoned": it is then
    // handed to the attempt still running here, never treated as someone else's lost call.
    private readonly Dictionary<Guid, Guid> _inFlight = [];
    private readonly Lock _inFlightGate = new();

    // While the key is refused, one call at a time probes it: the backlog waits behind the probe
    // instead of each waiting job spending a refused call.
    private int _probing;

    private DateTimeOffset _startBySweptAt = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var calls = new SemaphoreSlim(_options.CreateConcurrency);
        while (!stoppingToken.IsCancellationRequested)
        {
            var wake = signal.Next;
            try
            {
                await FailWaitingPastUnauthorizedGraceAsync(stoppingToken);
                await EndWaitingPastStartByAsync(stoppingToken);
                await StartDueAsync(calls, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // The database is away, or a row could not be read: look again at the next poll.
                GenerationLog.LaunchFailed(logger, e.Message);
            }

            await WaitAsync(wake, stoppingToken);
        }

        // Calls already made run to the end, so every task paid for is recorded and announced.
        for (var i = 0; i < _options.CreateConcurrency; i++)
        {
            await calls.WaitAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// An instance that died mid-call leaves a lapsed claim; once a call made under it must have
    /// ended (the create timeout past the lease), the claim is taken as abandoned.
    /// </summary>
    private TimeSpan AbandonedAfter => _kling.CreateTimeout + ClaimLease;

    private async Task StartDueAsync(SemaphoreSlim calls, CancellationToken stoppingToken)
    {
        while (time.GetUtcNow() >= access.OpenAt && calls.Wait(TimeSpan.Zero, CancellationToken.None))
        {
            var probe = access.RefusedSince is not null;
            if (probe && Interlocked.CompareExchange(ref _probing, 1, 0) != 0)
            {
                calls.Release();
                return;
            }

            PendingCreate? next = null;
            try
            {
                next = await ledger.TakeNextAsync(_kling.MaxConcurrentTasks, ClaimLease, AbandonedAfter, stoppingToken);
            }
            finally
            {
                if (next is null)
                {
                    EndTurn(calls, probe);
                }
            }

            if (next is null)
            {
                return;
            }

            bool handedOver;
            lock (_inFlightGate)
            {
                // An abandoned claim on a request whose attempt still runs here goes to that attempt.
                handedOver = next.Abandoned && _inFlight.ContainsKey(next.Command.RequestId);
                _inFlight[next.Command.RequestId] = next.Claim;
            }

            if (handedOver)
            {
                EndTurn(calls, probe);
                continue;
            }

            _ = Task.Run(() => RunAsync(next, calls, probe, stoppingToken), CancellationToken.None);
        }
    }

    private async Task WaitAsync(Task wake, CancellationToken stoppingToken)
    {
        var closedFor = access.OpenAt - time.GetUtcNow();
        var wait = closedFor > TimeSpan.Zero && closedFor < PollInterval ? closedFor : PollInterval;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var delay = Task.Delay(wait, time, cancel.Token);
        await Task.WhenAny(wake, delay);
        await cancel.CancelAsync();
    }

    private void EndTurn(SemaphoreSlim calls, bool probe)
    {
        if (probe)
        {
            Volatile.Write(ref _probing, 0);
        }

        calls.Release();
    }

    private async Task RunAsync(PendingCreate job, SemaphoreSlim calls, bool probe, CancellationToken stoppingToken)
    {
        using var renewal = new CancellationTokenSource();
        var renewing = RenewWhileRunningAsync(job, renewal.Token);
        try
        {
            await CreateAsync(job, renewal, stoppingToken);
        }
        catch (Exception e)
        {
            // The ledger could not be told (the database is away). The claim lapses; the request is
            // then taken as abandoned and handled by the ambiguous-create rule, never blindly repeated.
            GenerationLog.LaunchFailed(logger, e.Message);
        }
        finally
        {
            await renewal.CancelAsync();
            await renewing;
            lock (_inFlightGate)
            {
                _inFlight.Remove(job.Command.RequestId);
            }

            EndTurn(calls, probe);
            signal.Pulse();
        }
    }

    private Guid ClaimOf(PendingCreate job)
    {
        lock (_inFlightGate)
        {
            return _inFlight.TryGetValue(job.Command.RequestId, out var claim) ? claim : job.Claim;
        }
    }

    private async Task RenewWhileRunningAsync(PendingCreate job, CancellationToken done)
    {
        var lost = false;
        while (!done.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(ClaimLease / 3, time, done);
                var held = await ledger.RenewAsync(job.Command.RequestId, ClaimOf(job), ClaimLease, done);
                if (!held && !lost)
                {
                    // Renewal goes on: the claim may come back to this attempt (see _inFlight).
                    GenerationLog.ClaimLost(logger, job.Command.RequestId);
                }

                lost = !held;
            }
            catch (OperationCanceledException) when (done.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The database blinked: the next renewal may get through before the lease lapses.
                GenerationLog.LaunchFailed(logger, e.Message);
            }
        }
    }

    private async Task CreateAsync(PendingCreate job, CancellationTokenSource renewal, CancellationToken stoppingToken)
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

        if (job.Cancelled)
        {
            // Its client cancelled while an earlier attempt was under way, and has its answer: end it, create nothing.
            await EndAsync(job, VideoFailureReason.Cancelled, "Cancelled.", stoppingToken);
            return;
        }

        if (job.Abandoned && !await ResumeAbandonedAsync(job, stoppingToken))
        {
            return;
        }

        string taskId;
        try
        {
            // Not cancelled when the service stops: once sent, a paid call is seen through so its
            // task id is kept; CreateTimeout still bounds it.
            var created = await kling.CreateTaskAsync(ToKlingRequest(command), CancellationToken.None);
            taskId = string.IsNullOrWhiteSpace(created?.TaskId)
                ? throw new KlingApiException(KlingErrorKind.Transient, System.Net.HttpStatusCode.OK, "Kling answered 200 without a task id.", delivery: CallDelivery.Unknown)
                : created.TaskId;
        }
        catch (Exception e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.Message);
            await HandleFailureAsync(job, e, stoppingToken);
            return;
        }

        // Logged at once: from here on this id is money, and the log keeps it whatever happens next.
        span?.SetTag(KlingTelemetry.TaskIdTag, taskId);
        GenerationLog.TaskCreated(logger, command.RequestId, taskId, command.Mode, command.DurationSeconds);
        if (access.Accepted())
        {
            GenerationLog.KeyAccepted(logger);
        }

        await RecordAndAnnounceAsync(job, taskId, waited, renewal, stoppingToken);
    }

    /// <summary>An earlier holder may have created a task: repeat only when the policy allows it.</summary>
    private async Task<bool> ResumeAbandonedAsync(PendingCreate job, CancellationToken stoppingToken)
    {
        metrics.OutcomeUnknown(_options.RetryAmbiguousCreates);
        if (_options.RetryAmbiguousCreates)
        {
            GenerationLog.ClaimAbandoned(logger, job.Command.RequestId, "repeating it, as Generation:RetryAmbiguousCreates allows");
            return true;
        }

        GenerationLog.ClaimAbandoned(logger, job.Command.RequestId, "not repeated");
        await EndAsync(
            job,
            VideoFailureReason.CreateOutcomeUnknown,
            OutcomeUnknownMessage("the instance making the call stopped, or lost its database, before the outcome was recorded"),
            stoppingToken);
        return false;
    }

    private async Task RecordAndAnnounceAsync(PendingCreate job, string taskId, TimeSpan waited, CancellationTokenSource renewal, CancellationToken stoppingToken)
    {
        var command = job.Command;
        (TaskRecording Outcome, string? ExistingTaskId) recording = default;
        // For as long as the process lives: the claim stays renewed meanwhile, so the request is not created again.
        var announcement = new VideoGenerationSubmitted(command.RequestId, taskId, time.GetUtcNow(), command.Mode, command.DurationSeconds);
        await Backoff.RetryAsync(
            async token => recording = await ledger.RecordTaskAsync(command.RequestId, ClaimOf(job), taskId, announcement, token),
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
            await Backoff.RetryAsync(
                async token => await (await bus.GetSendEndpoint(VideoJobStateMachineDefinition.Address)).Send(announcement, token),
                (e, _) => GenerationLog.AnnounceFailed(logger, taskId, command.RequestId, e.Message),
                time,
                stoppingToken);
            return;
        }

        await AnnounceAsync(announcement, taskId, command.RequestId, stoppingToken);
    }

    private async Task HandleFailureAsync(PendingCreate job, Exception failure, CancellationToken stoppingToken)
    {
        var requestId = job.Command.RequestId;
        var kind = CreateFailures.Classify(failure);
        if (kind != CreateFailureKind.Unauthorized && failure is KlingApiException { Delivery: CallDelivery.Answered })
        {
            // Any other answer (a 429, a 503) ends a run of refusals: only refusals without a break for
            // the whole grace may fail a job as Unauthorized, not one 401 followed by an hour of 429s.
            access.AnsweredWithoutRefusal();
        }

        switch (kind)
        {
            case CreateFailureKind.Busy:
            {
                // The account is full: wait as long as the provider asks (within reason), keep the place, count nothing.
                var wait = RetryAfter(failure) ?? _options.CreateRetryMinInterval;
                access.Busy(wait);
                GenerationLog.ProviderBusy(logger, requestId, wait);
                await PostponeAsync(job, wait, failedAttempt: false, stoppingToken);
                return;
            }

            case CreateFailureKind.Rejected:
                GenerationLog.ProviderRefused(logger, requestId, VideoFailureReason.ProviderRejected, failure.Message);
                await EndAsync(job, VideoFailureReason.ProviderRejected, failure.Message, stoppingToken);
                return;

            case CreateFailureKind.Unauthorized:
                metrics.KeyRefused();
                var refusedFor = time.GetUtcNow() - (access.RefusedUnbrokenSince ?? time.GetUtcNow());
                if (refusedFor >= _options.UnauthorizedGrace && time.GetUtcNow() - job.AdmittedAt >= _options.UnauthorizedGrace)
                {
                    GenerationLog.ProviderRefused(logger, requestId, VideoFailureReason.Unauthorized, failure.Message);
                    await EndAsync(job, VideoFailureReason.Unauthorized, UnauthorizedMessage(failure.Message), stoppingToken);
                    return;
                }

                // A rotated key or a proxy's 403 is everyone's problem, not this request's: pause and probe.
                var pause = access.Refused(_options.CreateRetryMinInterval, _options.CreateRetryMaxInterval);
                GenerationLog.KeyRefused(logger, requestId, pause, failure.Message);
                await PostponeAsync(job, TimeSpan.Zero, failedAttempt: false, stoppingToken);
                return;

            case CreateFailureKind.Ambiguous when !_options.RetryAmbiguousCreates:
                metrics.OutcomeUnknown(retried: false);
                GenerationLog.CreateOutcomeUnknown(logger, requestId, "not repeated", failure.Message);
                await EndAsync(job, VideoFailureReason.CreateOutcomeUnknown, OutcomeUnknownMessage(failure.Message), stoppingToken);
                return;

            case CreateFailureKind.Ambiguous:
                metrics.OutcomeUnknown(retried: true);
                GenerationLog.CreateOutcomeUnknown(logger, requestId, "repeating it, as Generation:RetryAmbiguousCreates allows", failure.Message);
                await RetryLaterAsync(job, failure, stoppingToken);
                return;

            default:
                await RetryLaterAsync(job, failure, stoppingToken);
                return;
        }
    }

    private async Task RetryLaterAsync(PendingCreate job, Exception failure, CancellationToken stoppingToken)
    {
        var requestId = job.Command.RequestId;
        var attempt = job.FailedAttempts + 1;
        if (attempt >= _options.CreateAttemptLimit)
        {
            GenerationLog.GaveUp(logger, requestId, failure.Message);
            await EndAsync(
                job,
                VideoFailureReason.ProviderUnavailable,
                $"The provider stayed unavailable through {attempt} create attempts: {failure.Message}",
                stoppingToken);
            return;
        }

        var retryIn = Backoff.Delay(attempt, _options.CreateRetryMinInterval, _options.CreateRetryMaxInterval);
        if (RetryAfter(failure) is { } retryAfter && retryAfter > retryIn)
        {
            retryIn = retryAfter;
        }

        GenerationLog.CreateFailedTransiently(logger, requestId, attempt, retryIn, failure.Message);
        await PostponeAsync(job, retryIn, failedAttempt: true, stoppingToken);
    }

    /// <summary>A Retry-After within <see cref="GenerationOptions.MaxRetryAfter"/>: a provider asking for a day does not freeze the launcher.</summary>
    private TimeSpan? RetryAfter(Exception failure) =>
        failure is KlingApiException { RetryAfter: { } asked } && asked > TimeSpan.Zero
            ? asked < _options.MaxRetryAfter ? asked : _options.MaxRetryAfter
            : null;

    /// <summary>After the grace, the waiting jobs are told: the key has been refused too long to keep them waiting.</summary>
    private async Task FailWaitingPastUnauthorizedGraceAsync(CancellationToken stoppingToken)
    {
        var now = time.GetUtcNow();
        if (access.RefusedUnbrokenSince is not { } since || now - since < _options.UnauthorizedGrace)
        {
            return;
        }

        // Only the jobs that waited through the whole grace: newer ones get their own, and the
        // probes go on, so a key that works again is noticed.
        var message = UnauthorizedMessage("no create call was accepted");
        var ended = await ledger.EndAllWaitingAsync(now - _options.UnauthorizedGrace, VideoFailureReason.Unauthorized, message, stoppingToken);
        if (ended.Count == 0)
        {
            return;
        }

        GenerationLog.WaitingFailedUnauthorized(logger, ended.Count, _options.UnauthorizedGrace);
        foreach (var requestId in ended)
        {
            metrics.Failed(VideoFailureReason.Unauthorized, tracked: false);
            await AnnounceAsync(new VideoFailed(requestId, null, VideoFailureReason.Unauthorized, message), null, requestId, stoppingToken);
        }
    }

    /// <summary>
    /// Requests still waiting at their StartBy end with nothing created (the ledger never claims them after it). Looked at
    /// once per poll at most, however often admissions wake the launcher.
    /// </summary>
    private async Task EndWaitingPastStartByAsync(CancellationToken stoppingToken)
    {
        var now = time.GetUtcNow();
        if (now - _startBySweptAt < PollInterval)
        {
            return;
        }

        _startBySweptAt = now;
        var ended = await ledger.EndPastStartByAsync(now, GenerateVideoConsumer.StartByPassedMessage, stoppingToken);
        if (ended.Count == 0)
        {
            return;
        }

        GenerationLog.WaitedPastStartBy(logger, ended.Count);
        foreach (var requestId in ended)
        {
            metrics.Failed(VideoFailureReason.StartByPassed, tracked: false);
            await AnnounceAsync(new VideoFailed(requestId, null, VideoFailureReason.StartByPassed, GenerateVideoConsumer.StartByPassedMessage), null, requestId, stoppingToken);
        }
    }

    /// <summary>Returns the request to the backlog; a database blip is retried, so the claim does not lapse into an unknown outcome.</summary>
    private Task PostponeAsync(PendingCreate job, TimeSpan delay, bool failedAttempt, CancellationToken stoppingToken) =>
        Backoff.RetryAsync(
            async token => await ledger.PostponeAsync(job.Command.RequestId, ClaimOf(job), delay, failedAttempt, token),
            (e, _) => GenerationLog.LaunchFailed(logger, e.Message),
            time,
            stoppingToken);

    private async Task EndAsync(PendingCreate job, VideoFailureReason reason, string message, CancellationToken stoppingToken)
    {
        var requestId = job.Command.RequestId;
        var answer = new VideoFailed(requestId, null, reason, message);
        var ended = false;
        await Backoff.RetryAsync(
            async token => ended = await ledger.EndWithoutTaskAsync(requestId, ClaimOf(job), answer, token),
            (e, _) => GenerationLog.LaunchFailed(logger, e.Message),
            time,
            stoppingToken);
        if (!ended)
        {
            // The claim was lost (whoever holds the request now answers for it), or the client
            // cancelled and already has its answer.
            GenerationLog.NotEndedHere(logger, requestId, reason);
            return;
        }

        metrics.Failed(reason, tracked: false);
        await AnnounceAsync(answer, null, requestId, stoppingToken);
    }

    /// <summary>
    /// Publishes until the broker takes it: the ledger already says it happened. Stopping ends the
    /// tries after one more; a Submitted lost then is announced again by the stalled-job sweeper.
    /// </summary>
    private Task AnnounceAsync<T>(T message, string? taskId, Guid requestId, CancellationToken stoppingToken)
        where T : class =>
        // A durable ledger has already written it, in the transaction of the write it announces.
        ledger.AnnouncesInTransaction ? Task.CompletedTask : Backoff.RetryAsync(
            token => bus.Publish(message, token),
            (e, _) => GenerationLog.AnnounceFailed(logger, taskId ?? "(none)", requestId, e.Message),
            time,
            stoppingToken);

    private string UnauthorizedMessage(string detail) =>
        $"Kling refused the service's API key for longer than {_options.UnauthorizedGrace}; nothing was created or charged: {detail}";

    private static string OutcomeUnknownMessage(string detail) =>
        "The create call reached the provider but its outcome is unknown, so a task may have been created and charged. "
        + $"It was not repeated, so as not to pay twice: {detail}";

    private static CreateTaskRequest ToKlingRequest(GenerateVideo command) => new(
        command.Image,
        command.Prompt,
        command.Mode.ToString(),
        command.DurationSeconds.ToString(CultureInfo.InvariantCulture),
        command.GuidanceScale,
        command.NegativePrompt);
}
