namespace KlingService.Scheduling;

/// <summary>
/// A message waiting for its time: the payload as JSON, its MassTransit message type and the headers to send it with.
/// <see cref="Attempts"/> counts the failed tries to send it so far.
/// </summary>
public sealed record ScheduledMessageRow(Guid TokenId, DateTimeOffset DueAt, Uri Destination, string MessageType, string Body, string Headers, int Attempts = 0);
