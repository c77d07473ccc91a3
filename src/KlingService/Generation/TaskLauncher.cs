using System.Diagnostics;
using System.Globalization;
using System.Net;
using KlingService.Contracts;
using KlingService.Kling;
using KlingService.Telemetry;
using MassTransit;
using Microsoft.Extensions.Options;

namespace KlingService.Generation;

/// <summary>
/// Creates the Kling task of each admitted request as soon as one of the account's slots is free,
/// oldest first, on every instance (the ledger hands each request and slot to one of them). A busy
/// account (429) or a broken provider puts the request back in the backlog, never in an error.
/// </summary>
public sealed class TaskLauncher(
    IRequestLedger ledger,
    LauncherSignal signal,
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

    private readonly GenerationOptions _options = generationOptions.Value;
    private readonly KlingOptions _kling = klingOptions.Value;

    // After a 429 the account is full whatever the ledger counts (a task made elsewhere, or one the
    // provider still runs after we gave up on it): no create call until its Retry-After has passed.
    // Create calls that meet a 429 run in parallel; the lock keeps the time whole.
    private readonly Lock _busyGate = new();
    private DateTimeOffset _busyUntil = DateTimeOffset.MinValue;

    private DateTimeOffset BusyUntil
    {
        get
        {
            lock (_busyGate)
            {
                return _busyUntil;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var calls = new SemaphoreSlim(_options.CreateConcurrency);
        while (!stoppingToken.IsCancellationRequested)
        {
            var wake = signal.Next;
            try
            {
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

    private async Task StartDueAsync(SemaphoreSlim calls, CancellationToken stoppingToken)
    {
        while (time.GetUtcNow() >= BusyUntil && calls.Wait(TimeSpan.Zero, CancellationToken.None))
        {
            PendingCreate? next;
            try
            {
                next = await ledger.TakeNextAsync(_kling.MaxConcurrentTasks, _kling.RequestTimeout * 2, stoppingToken);
            }
            catch
            {
                calls.Release();
                throw;
            }

            if (next is null)
            {
                calls.Release();
                return;
            }

            _ = Task.Run(() => RunAsync(next, calls, stoppingToken), CancellationToken.None);
        }
    }

    private async Task WaitAsync(Task wake, CancellationToken stoppingToken)
    {
        var busyFor = BusyUntil - time.GetUtcNow();
        var wait = busyFor > TimeSpan.Zero && busyFor < PollInterval ? busyFor : PollInterval;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var delay = Task.Delay(wait, time, cancel.Token);
        await Task.WhenAny(wake, delay);
        await cancel.CancelAsync();
    }

    private async Task RunAsync(PendingCreate job, SemaphoreSlim calls, CancellationToken stoppingToken)
    {
        try
        {
            await CreateAsync(job, stoppingToken);
        }
        catch (Exception e)
        {
            // The ledger could not be told (the database is away): the request's lease lapses and
            // the request is taken again later, so nothing is lost.
            GenerationLog.LaunchFailed(logger, e.Message);
        }
        finally
        {
            calls.Release();
            signal.Pulse();
        }
    }

    private async Task CreateAsync(PendingCreate job, CancellationToken stoppingToken)
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

        CreateTaskResponse created;
        try
        {
            // Not cancelled when the service stops: once sent, a paid call is seen through so its
            // task id is kept; RequestTimeout still bounds it.
            created = await kling.CreateTaskAsync(ToKlingRequest(command), CancellationToken.None);
            span?.SetTag(KlingTelemetry.TaskIdTag, created.TaskId);
        }
        catch (KlingApiException e) when (e.Kind is KlingErrorKind.Rejected or KlingErrorKind.Unauthorized)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.Message);
            var reason = e.Kind == KlingErrorKind.Unauthorized ? VideoFailureReason.Unauthorized : VideoFailureReason.ProviderRejected;
            GenerationLog.ProviderRefused(logger, command.RequestId, reason, e.Message);
            await EndAsync(command, reason, e.Message, stoppingToken);
            return;
        }
        catch (Exception e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.Message);
            await RetryLaterAsync(job, e, stoppingToken);
            return;
        }

        await ledger.RecordTaskAsync(command.RequestId, created.TaskId, CancellationToken.None);
        metrics.Submitted(waited);
        GenerationLog.TaskCreated(logger, command.RequestId, created.TaskId, command.Mode, command.DurationSeconds);
        await AnnounceAsync(
            new VideoGenerationSubmitted(command.RequestId, created.TaskId, time.GetUtcNow(), command.Mode, command.DurationSeconds),
            created.TaskId, command.RequestId, stoppingToken);
    }

    private async Task RetryLaterAsync(PendingCreate job, Exception failure, CancellationToken stoppingToken)
    {
        var requestId = job.Command.RequestId;
        if (failure is KlingApiException { StatusCode: HttpStatusCode.TooManyRequests } busy)
        {
            // The account is full: wait as long as the provider asks, keep the place, count nothing.
            var wait = busy.RetryAfter is { } asked && asked > TimeSpan.Zero ? asked : _options.CreateRetryMinInterval;
            lock (_busyGate)
            {
                var until = time.GetUtcNow() + wait;
                _busyUntil = until > _busyUntil ? until : _busyUntil;
            }

            GenerationLog.ProviderBusy(logger, requestId, wait);
            await ledger.PostponeAsync(requestId, wait, failedAttempt: false, CancellationToken.None);
            return;
        }

        var attempt = job.FailedAttempts + 1;
        var transient = TransientFailure.Matches(failure);
        if (attempt >= _options.CreateAttemptLimit)
        {
            GenerationLog.GaveUp(logger, requestId, failure.Message);
            var (reason, message) = transient
                ? (VideoFailureReason.ProviderUnavailable, $"The provider stayed unavailable through {attempt} create attempts: {failure.Message}")
                : (VideoFailureReason.InternalError, $"The service could not create the task ({attempt} attempts): {failure.Message}");
            await EndAsync(job.Command, reason, message, stoppingToken);
            return;
        }

        var retryIn = Backoff(attempt);
        if (failure is KlingApiException { RetryAfter: { } retryAfter } && retryAfter > retryIn)
        {
            retryIn = retryAfter;
        }

        GenerationLog.CreateFailedTransiently(logger, requestId, attempt, retryIn, failure.Message);
        await ledger.PostponeAsync(requestId, retryIn, failedAttempt: true, CancellationToken.None);
    }

    private async Task EndAsync(GenerateVideo command, VideoFailureReason reason, string message, CancellationToken stoppingToken)
    {
        await ledger.RecordEndedAsync(command.RequestId, CancellationToken.None);
        metrics.Failed(reason, tracked: false);
        await AnnounceAsync(new VideoFailed(command.RequestId, null, reason, message), null, command.RequestId, stoppingToken);
    }

    /// <summary>
    /// Publishes until the broker takes it: the ledger already says it happened. Stopping ends the
    /// tries after one more; a Submitted lost then is announced again by the stalled-job sweeper.
    /// </summary>
    private async Task AnnounceAsync<T>(T message, string? taskId, Guid requestId, CancellationToken stoppingToken)
        where T : class
    {
        var wait = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await bus.Publish(message, attempt.Token);
                return;
            }
            catch (Exception e)
            {
                GenerationLog.AnnounceFailed(logger, taskId ?? "(none)", requestId, e.Message);
                if (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
            }

            try
            {
                await Task.Delay(wait, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                // One more try before giving up: the loop's next attempt.
            }

            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    private TimeSpan Backoff(int attempt)
    {
        var exponential = _options.CreateRetryMinInterval.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        var capped = Math.Min(exponential, _options.CreateRetryMaxInterval.TotalMilliseconds);
        // Spread retries of many jobs that failed together, so they do not return as one burst.
        return TimeSpan.FromMilliseconds(capped * (0.8 + (Random.Shared.NextDouble() * 0.4)));
    }

    private static CreateTaskRequest ToKlingRequest(GenerateVideo command) => new(
        command.Image,
        command.Prompt,
        command.Mode.ToString(),
        command.DurationSeconds.ToString(CultureInfo.InvariantCulture),
        command.GuidanceScale,
        command.NegativePrompt);
}
