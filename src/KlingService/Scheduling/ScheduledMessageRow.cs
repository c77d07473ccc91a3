namespace KlingService.Scheduling;

/// <summary>
/// A message waiting for its time: the payload as JSON, its MassTransit message type and the headers to send it with.
/// <see cref="Attempts"/> counts the failed tries to send it so far. <see cref="MessageId"/>, when
/// set, is the MessageId it is sent with on every attempt, so a repeated send is recognisable.
/// A row whose token is its MessageId is a saga's publish or send (the outbox), not a schedule: it
/// is sent without a scheduling token.
/// </summary>
public sealed record ScheduledMessageRow(
    Guid TokenId, DateTimeOffset DueAt, Uri Destination, string MessageType, string Body, string Headers, int Attempts = 0, Guid? MessageId = null)
{
    /// <summary>A message the saga published or sent (due when its transaction committed), not a schedule.</summary>
    public bool IsOutboxMessage => MessageId == TokenId;
}
