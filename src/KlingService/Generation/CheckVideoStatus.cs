namespace KlingService.Generation;

/// <summary>Scheduled by the saga to itself: time to ask the provider about the task.</summary>
public sealed record CheckVideoStatus(Guid CorrelationId, string TaskId);
