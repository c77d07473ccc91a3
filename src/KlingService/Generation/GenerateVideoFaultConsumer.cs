using System.Diagnostics;
using KlingService.Contracts;
using KlingService.Kling;
using KlingService.Telemetry;
using MassTransit;

namespace KlingService.Generation;

/// <summary>
/// A command whose every retry and redelivery failed lands in the error queue; its client still
/// deserves an answer, so the job ends here with a classified <see cref="VideoFailed"/>, but only a
/// request that has no task and no create call under way: a failed repeat of a running job must not
/// answer for it (the job itself will), nor free a slot its task still holds.
/// </summary>
public sealed class GenerateVideoFaultConsumer(IRequestLedger ledger, KlingMetrics metrics, ILogger<GenerateVideoFaultConsumer> logger)
    : IConsumer<Fault<GenerateVideo>>
{
    public async Task Consume(ConsumeContext<Fault<GenerateVideo>> context)
    {
        var command = context.Message.Message;
        var exception = context.Message.Exceptions.FirstOrDefault();
        if (command is null)
        {
            // Unreadable commands have no RequestId to answer to; they wait in the error queue.
            return;
        }

        var providerTrouble = exception?.ExceptionType is { } type
            && (type == typeof(KlingApiException).FullName || type.StartsWith("System.Net.Http.", StringComparison.Ordinal)
                || type == typeof(TaskCanceledException).FullName || type.StartsWith("Npgsql.", StringComparison.Ordinal));
        var reason = providerTrouble ? VideoFailureReason.ProviderUnavailable : VideoFailureReason.InternalError;
        // A stable sentence and where to look, never the exception's text: it can name database hosts and ports.
        var trace = Activity.Current?.TraceId.ToHexString() ?? context.MessageId?.ToString("N") ?? "unknown";
        var message = providerTrouble
            ? $"The provider or the database stayed unavailable through every retry (trace {trace})."
            : $"The service could not handle this request; it has been kept in the error queue for inspection (trace {trace}).";

        var answer = new VideoFailed(command.RequestId, null, reason, message);
        if (command.RequestId != Guid.Empty && !await ledger.EndWithoutTaskAsync(command.RequestId, claim: null, answer, context.CancellationToken))
        {
            GenerationLog.FaultNotAnswered(logger, command.RequestId);
            return;
        }

        GenerationLog.GaveUp(logger, command.RequestId, exception?.Message ?? "no detail");
        metrics.Failed(reason, tracked: false);
        if (!ledger.AnnouncesInTransaction)
        {
            await context.Publish(answer);
        }
    }
}
