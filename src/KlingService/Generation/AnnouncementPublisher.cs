using KlingService.Contracts;
using MassTransit;

namespace KlingService.Generation;

/// <summary>
/// Publishes what the ledger has recorded (a task's Submitted, a request's VideoFailed), unless the ledger already
/// wrote it to its outbox in the transaction of the write it announces.
/// </summary>
public sealed class AnnouncementPublisher(IRequestLedger ledger, IBus bus, TimeProvider time, ILogger<AnnouncementPublisher> logger)
{
    /// <summary>
    /// Publishes until the broker takes it: the ledger already says it happened. Stopping ends the tries after one
    /// more; a Submitted lost then is announced again by the stalled-job sweeper.
    /// </summary>
    public Task PublishAsync<T>(T message, string? taskId, Guid requestId, CancellationToken stoppingToken)
        where T : class =>
        ledger.AnnouncesInTransaction ? Task.CompletedTask : Backoff.RetryAsync(
            token => bus.Publish(message, token),
            (e, _) => GenerationLog.AnnounceFailed(logger, taskId ?? "(none)", requestId, e.Message),
            time,
            stoppingToken);

    /// <summary>Sends a Submitted to its job alone: the request was cancelled while being created, so only its job hears of the task (to follow it quietly).</summary>
    public Task SendToJobAsync(VideoGenerationSubmitted announcement, CancellationToken stoppingToken) =>
        Backoff.RetryAsync(
            async token => await (await bus.GetSendEndpoint(VideoJobStateMachineDefinition.Address)).Send(announcement, token),
            (e, _) => GenerationLog.AnnounceFailed(logger, announcement.TaskId, announcement.RequestId, e.Message),
            time,
            stoppingToken);
}
