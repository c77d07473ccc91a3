using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using KlingService.Outbox;
using KlingService.Persistence;
using KlingService.Telemetry;
using MassTransit;
using MassTransit.Serialization;

namespace KlingService.Scheduling;

/// <summary>
/// Sends scheduled messages when they fall due, and the sagas' outbox (their publishes and sends,
/// rows due when their transaction committed, sent as soon as an <see cref="OutboxSignal"/> says so). Every instance runs one; SKIP LOCKED gives each
/// due row to exactly one of them, and a row is deleted only in the transaction that sent it.
/// A row that cannot be sent is retried later and finally set aside (see
/// <see cref="ScheduledMessageStore.DispatchDueAsync"/>), never blocking the others.
/// </summary>
public sealed partial class ScheduledMessageDispatcher(
    ScheduledMessageStore store,
    OutboxSignal signal,
    IBus bus,
    IHostApplicationLifetime lifetime,
    KlingMetrics metrics,
    ILogger<ScheduledMessageDispatcher> logger) : BackgroundService
{
    private const int BatchSize = 200;
    private const string ActivityIdHeader = "MT-Activity-Id";
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan FailureBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(10);
    private static readonly ConcurrentDictionary<string, Type?> MessageTypes = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Sending needs a started bus.
        await Task.Delay(Timeout.Infinite, lifetime.ApplicationStarted).ContinueWith(_ => { }, TaskScheduler.Default);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var result = await store.DispatchDueAsync(BatchSize, row => SendAsync(row, stoppingToken), stoppingToken);
                Report(result);
                if (result.Interrupted)
                {
                    // The broker may be away: give it a moment rather than time out row after row.
                    await Task.Delay(FailureBackoff, stoppingToken);
                }
                else if (result.Handled < BatchSize)
                {
                    // Until the next poll, or until a saga commits messages to send at once.
                    await signal.WaitAsync(PollInterval, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Broker or database away: the rows stay and are sent when both are back.
                DispatchFailed(logger, e.Message);
                await Task.Delay(FailureBackoff, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private void Report(DispatchResult result)
    {
        foreach (var failure in result.Failed)
        {
            if (failure.SetAside)
            {
                MessageSetAside(logger, failure.TokenId, failure.MessageType, failure.Attempts, failure.Error);
                metrics.ScheduledMessageSetAside(failure.MessageType);
            }
            else
            {
                SendFailed(logger, failure.TokenId, failure.MessageType, failure.Attempts, store.Options.MaxAttempts, failure.RetryIn, failure.Error);
            }
        }
    }

    private async Task SendAsync(ScheduledMessageRow row, CancellationToken cancellationToken)
    {
        var (messageType, message, envelope) = Read(row);

        // Continue the trace of whoever scheduled the message: the send below becomes its child.
        using var activity = envelope.Headers.TryGetValue(ActivityIdHeader, out var parent) && parent?.ToString() is { Length: > 0 } parentId
            ? KlingTelemetry.Source.StartActivity(KlingTelemetry.ScheduledDispatchSpan, ActivityKind.Internal, parentId)
                ?? new Activity(KlingTelemetry.ScheduledDispatchSpan).SetParentId(parentId).Start()
            : null;

        // A broker that went away mid-send must not stall every schedule behind this one.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(SendTimeout);
        try
        {
            var endpoint = await bus.GetSendEndpoint(row.Destination);
            await endpoint.Send(message, messageType, Pipe.Execute<SendContext>(context =>
            {
                foreach (var (key, value) in envelope.Headers)
                {
                    if (key != ActivityIdHeader)
                    {
                        context.Headers.Set(key, ToHeaderValue(value));
                    }
                }

                context.CorrelationId = envelope.CorrelationId;
                context.ConversationId = envelope.ConversationId;
                context.InitiatorId = envelope.InitiatorId;
                if (row.MessageId is { } messageId)
                {
                    // The same MessageId on every attempt: a send repeated after a crash is recognisable.
                    context.MessageId = messageId;
                }

                if (row.IsOutboxMessage)
                {
                    // A saga's publish or send, not a schedule: no scheduling token.
                    return;
                }

                context.ScheduledMessageId = row.TokenId;
                // What a saga's Schedule compares with the token it holds, so a superseded message
                // is ignored: set as MassTransit's own schedulers do (ScheduleSendPipe, Quartz's
                // JobDataMessageContext), after the copied headers so the row's token wins.
                context.Headers.Set(MessageHeaders.SchedulingTokenId, row.TokenId.ToString("D"));
            }), timeout.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // A bus that says it is healthy makes the failure this row's own; otherwise the broker is away.
            throw ScheduledDispatchException.SendFailed(e, IsBusHealthy());
        }
    }

    private static (Type MessageType, object Message, ScheduledHeaders Envelope) Read(ScheduledMessageRow row)
    {
        var messageType = MessageTypes.GetOrAdd(row.MessageType, ResolveMessageType)
            ?? throw ScheduledDispatchException.Unreadable($"No loaded type matches the scheduled message type {row.MessageType}.");
        try
        {
            var message = JsonSerializer.Deserialize(row.Body, messageType, SystemTextJsonMessageSerializer.Options)
                ?? throw ScheduledDispatchException.Unreadable($"The body of the scheduled {row.MessageType} is null.");
            var envelope = JsonSerializer.Deserialize<ScheduledHeaders>(row.Headers, SystemTextJsonMessageSerializer.Options)
                ?? throw ScheduledDispatchException.Unreadable($"The headers of the scheduled {row.MessageType} are null.");
            return (messageType, message, envelope with { Headers = envelope.Headers ?? [] });
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw ScheduledDispatchException.Unreadable($"The scheduled {row.MessageType} does not deserialize: {e.Message}", e);
        }
    }

    private bool IsBusHealthy()
    {
        try
        {
            return bus is IBusControl control && control.CheckHealth().Status == BusHealthStatus.Healthy;
        }
        catch (Exception e) when (e is InvalidOperationException or MassTransitException)
        {
            return false;
        }
    }

    private static object? ToHeaderValue(object? value) => value is JsonElement json
        ? json.ValueKind switch
        {
            JsonValueKind.String => json.GetString(),
            JsonValueKind.Number when json.TryGetInt32(out var number) => number,
            JsonValueKind.Number when json.TryGetInt64(out var number) => number,
            JsonValueKind.Number => json.GetDouble(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Null => null,
            _ => json.GetRawText(),
        }
        : value;

    // MassTransit names message types "urn:message:Namespace:Type"; the scheduled ones are all ours.
    private static Type? ResolveMessageType(string urn)
    {
        var parts = urn.Split(':');
        if (parts.Length != 4 || parts[0] != "urn" || parts[1] != "message")
        {
            return null;
        }

        var fullName = $"{parts[2]}.{parts[3]}";
        return AppDomain.CurrentDomain.GetAssemblies()
            .Select(assembly => assembly.GetType(fullName, throwOnError: false))
            .FirstOrDefault(type => type is not null);
    }

    [LoggerMessage(1, LogLevel.Warning, "Dispatching scheduled messages failed; retrying: {Message}")]
    private static partial void DispatchFailed(ILogger logger, string message);

    [LoggerMessage(2, LogLevel.Warning, "Scheduled message {TokenId} ({MessageType}) was not sent (attempt {Attempt} of {MaxAttempts}); trying again in {RetryIn}: {Error}")]
    private static partial void SendFailed(ILogger logger, Guid tokenId, string messageType, int attempt, int maxAttempts, TimeSpan retryIn, string error);

    [LoggerMessage(3, LogLevel.Error, "Scheduled message {TokenId} ({MessageType}) was set aside after {Attempts} failed attempts; it waits in " + PostgresSchema.ScheduledMessagesDead + " for an operator: {Error}")]
    private static partial void MessageSetAside(ILogger logger, Guid tokenId, string messageType, int attempts, string error);
}
