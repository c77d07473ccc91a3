using KlingService.Scheduling;

namespace KlingService.Outbox;

/// <summary>
/// One thing the saga asked to send while handling a message, to be written in its transaction:
/// a row for <c>kling_scheduled_messages</c> (due now, or at its scheduled time), or the token of a
/// scheduled row to forget.
/// </summary>
public abstract record OutboxEntry
{
    private OutboxEntry()
    {
    }

    /// <summary>A published or sent message, due as soon as the transaction commits. Its token is its MessageId.</summary>
    public sealed record DueNow(ScheduledMessageRow Row) : OutboxEntry;

    /// <summary>A <c>Schedule</c>: the row under the schedule's token, due at its time.</summary>
    public sealed record Scheduled(ScheduledMessageRow Row) : OutboxEntry;

    /// <summary>An <c>Unschedule</c>: the scheduled row with this token is deleted.</summary>
    public sealed record Cancelled(Guid TokenId) : OutboxEntry;
}
