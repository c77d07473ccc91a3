namespace KlingService.Scheduling;

/// <summary>What of the scheduling message's envelope travels on with the scheduled one.</summary>
public sealed record ScheduledHeaders(
    Dictionary<string, object> Headers,
    Guid? CorrelationId,
    Guid? ConversationId,
    Guid? InitiatorId);
