using System.Diagnostics;
using KlingService.Generation;
using KlingService.Telemetry;
using MassTransit;
using Microsoft.Extensions.Options;

namespace KlingService.Storage;

/// <summary>
/// Copies a finished video into the artifact store, trying again with growing pauses while the provider's URL is
/// valid, and always answers the saga's own request: with the stored video, or with why there is none. The job is
/// read once, before the copy, and no database connection is held during it; a crash mid-copy leaves the message
/// unacknowledged, so another instance copies it again.
/// The bus is not trusted: what is copied, from where and until when comes from the job's saga, and only a job
/// storing its video under the message's one-time token is copied at all.
/// </summary>
public sealed class StoreVideoConsumer(
    VideoCopier copier,
    ILoadSagaRepository<VideoJobState> jobs,
    IOptions<StorageOptions> options,
    TimeProvider time,
    KlingMetrics metrics,
    ILogger<StoreVideoConsumer> logger)
    : IConsumer<StoreVideo>
{
    // MassTransit names a state after its property on the state machine.
    private const string StoringState = nameof(VideoJobStateMachine.Storing);

    private readonly StorageOptions _options = options.Value;

    public async Task Consume(ConsumeContext<StoreVideo> context)
    {
        if (await OwnRequestAsync(context.Message) is not { } job)
        {
            // No answer either: the saga takes none without its token, and a made-up job has no saga to answer.
            return;
        }

        using var activity = KlingTelemetry.Source.StartActivity(KlingTelemetry.StoreVideoSpan);
        activity?.SetTag(KlingTelemetry.TaskIdTag, job.TaskId);
        activity?.SetTag(KlingTelemetry.RequestIdTag, job.RequestId.ToString());
        var started = time.GetTimestamp();

        var (stored, failure, attempts) = await CopyWithRetriesAsync(job, activity, context.CancellationToken);
        var took = time.GetElapsedTime(started);
        if (stored is not null)
        {
            activity?.SetTag(KlingTelemetry.VideoSizeTag, stored.SizeBytes);
            activity?.SetTag(KlingTelemetry.StoreDurationTag, took.TotalSeconds);
            metrics.VideoStored(stored.SizeBytes, took);
            StorageLog.VideoStored(logger, job.TaskId, job.RequestId, stored.SizeBytes, stored.Sha256, stored.Key);
        }
        else
        {
            activity?.SetStatus(ActivityStatusCode.Error, failure.ToString());
            activity?.AddEvent(new ActivityEvent(KlingTelemetry.VideoNotStoredEvent, tags: new ActivityTagsCollection
            {
                [KlingTelemetry.StoreFailureTag] = failure.ToString(),
                [KlingTelemetry.StoreAttemptTag] = attempts,
            }));
            metrics.VideoNotStored(failure!.Value);
            StorageLog.VideoNotStored(logger, job.TaskId, job.RequestId, failure.Value, attempts, job.VideoUrlExpiresAt);
        }

        await context.Publish(new VideoStored(job.CorrelationId, job.TaskId, stored, failure, job.StoreToken));
    }

    private async Task<(StoredVideo? Stored, StoreFailureReason? Failure, int Attempts)> CopyWithRetriesAsync(
        StoreVideo job, Activity? activity, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(job.VideoUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            StorageLog.AttemptFailed(logger, 1, job.TaskId, StoreFailureReason.DownloadFailed, "The provider's video URL is not an absolute http(s) URL.");
            return (null, StoreFailureReason.DownloadFailed, 0);
        }

        for (var attempt = 1; ; attempt++)
        {
            if (GivenUp(job) is { } over)
            {
                return (null, over, attempt - 1);
            }

            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(_options.AttemptTimeout);
            try
            {
                return (await copier.CopyAsync(job.TaskId, url, job.VideoUrlExpiresAt, bound.Token), null, attempt);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping: leave the message for a redelivery rather than answer for a copy not finished.
                throw;
            }
            catch (Exception e)
            {
                var reason = StoreFailures.Classify(e);
                StorageLog.AttemptFailed(logger, attempt, job.TaskId, reason, e.Message);
                activity?.AddEvent(new ActivityEvent(KlingTelemetry.StoreAttemptFailedEvent, tags: new ActivityTagsCollection
                {
                    [KlingTelemetry.StoreFailureTag] = reason.ToString(),
                    [KlingTelemetry.StoreAttemptTag] = attempt,
                }));
                if (!StoreFailures.IsRetryable(reason) || attempt >= _options.MaxAttempts)
                {
                    return (null, reason, attempt);
                }
            }

            var pause = Backoff.Delay(attempt, _options.FirstRetryDelay, _options.MaxRetryDelay);
            if (GivenUp(job, pause) is { } beforeNextTry)
            {
                // No time for another try: deliver now rather than wait only to give up.
                return (null, beforeNextTry, attempt);
            }

            await Task.Delay(pause, time, cancellationToken);
        }
    }

    /// <summary>
    /// The copy the job's own saga asked for, rebuilt from that saga (its provider URL, the URL's expiry, its give-up
    /// time); null, counted and logged, when the message names no job storing its video under the message's token.
    /// </summary>
    private async Task<StoreVideo?> OwnRequestAsync(StoreVideo claim)
    {
        var saga = await jobs.Load(claim.CorrelationId);
        var rejection = saga is null || saga.TaskId != claim.TaskId ? BusRejection.UnknownJob
            : saga.CurrentState != StoringState || saga.VideoUrl is null || saga.StoreGiveUpAt is null ? BusRejection.NotStoring
            : saga.StoreToken is not { } token || token != claim.StoreToken ? BusRejection.WrongToken
            : (BusRejection?)null;
        if (rejection is { } reason)
        {
            metrics.BusRejected(nameof(StoreVideo), reason);
            StorageLog.StoreVideoRejected(logger, claim.TaskId, claim.CorrelationId, reason);
            return null;
        }

        return new StoreVideo(saga!.CorrelationId, saga.RequestId, saga.TaskId, saga.VideoUrl!, saga.VideoUrlExpiresAt, saga.StoreGiveUpAt!.Value, saga.StoreToken!.Value);
    }

    /// <summary>
    /// Past the URL's expiry (or the job's store timeout) once <paramref name="ahead"/> has passed: the reason (each
    /// try's own failure is in the log and the span); else null.
    /// </summary>
    private StoreFailureReason? GivenUp(StoreVideo job, TimeSpan ahead = default)
    {
        var at = time.GetUtcNow() + ahead;
        return job.VideoUrlExpiresAt is { } expires && at >= expires ? StoreFailureReason.UrlExpired
            : at >= job.GiveUpAt ? StoreFailureReason.TimedOut
            : null;
    }
}
