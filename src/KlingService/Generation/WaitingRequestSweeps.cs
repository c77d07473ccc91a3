using KlingService.Contracts;
using KlingService.Telemetry;
using Microsoft.Extensions.Options;

namespace KlingService.Generation;

/// <summary>
/// Ends the requests that waited too long for a slot, with nothing created: through the whole grace of a refused key,
/// or past their StartBy. The launcher runs both before each look for work.
/// </summary>
public sealed class WaitingRequestSweeps(
    IRequestLedger ledger,
    ProviderAccess access,
    AnnouncementPublisher announcements,
    IOptions<GenerationOptions> generationOptions,
    TimeProvider time,
    KlingMetrics metrics,
    ILogger<WaitingRequestSweeps> logger)
{
    private readonly GenerationOptions _options = generationOptions.Value;

    private DateTimeOffset _startBySweptAt = DateTimeOffset.MinValue;

    /// <summary>After the grace, the waiting jobs are told: the key has been refused too long to keep them waiting.</summary>
    public async Task EndPastUnauthorizedGraceAsync(CancellationToken stoppingToken)
    {
        var now = time.GetUtcNow();
        if (access.RefusedUnbrokenSince is not { } since || now - since < _options.UnauthorizedGrace)
        {
            return;
        }

        // Only the jobs that waited through the whole grace: newer ones get their own, and the
        // probes go on, so a key that works again is noticed.
        var message = CreateOutcome.UnauthorizedMessage(_options.UnauthorizedGrace, "no create call was accepted");
        var ended = await ledger.EndAllWaitingAsync(now - _options.UnauthorizedGrace, VideoFailureReason.Unauthorized, message, stoppingToken);
        if (ended.Count == 0)
        {
            return;
        }

        GenerationLog.WaitingFailedUnauthorized(logger, ended.Count, _options.UnauthorizedGrace);
        foreach (var requestId in ended)
        {
            metrics.Failed(VideoFailureReason.Unauthorized, tracked: false);
            await announcements.PublishAsync(new VideoFailed(requestId, null, VideoFailureReason.Unauthorized, message), null, requestId, stoppingToken);
        }
    }

    /// <summary>
    /// Requests still waiting at their StartBy end with nothing created (the ledger never claims them after it). Looked at
    /// once per <paramref name="interval"/> at most, however often admissions wake the launcher.
    /// </summary>
    public async Task EndPastStartByAsync(TimeSpan interval, CancellationToken stoppingToken)
    {
        var now = time.GetUtcNow();
        if (now - _startBySweptAt < interval)
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
            await announcements.PublishAsync(
                new VideoFailed(requestId, null, VideoFailureReason.StartByPassed, GenerateVideoConsumer.StartByPassedMessage), null, requestId, stoppingToken);
        }
    }
}
