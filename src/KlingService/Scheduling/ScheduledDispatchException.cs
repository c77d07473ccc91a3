namespace KlingService.Scheduling;

/// <summary>
/// Why one scheduled message was not sent. <see cref="RowAtFault"/>: the row itself is the problem
/// (its type or body cannot be read, or the send failed while the broker was otherwise fine), so
/// the failure counts towards setting it aside. <see cref="AffectsOthers"/>: the broker may be
/// away, so the rest of the batch waits for the next round instead of each timing out in turn.
/// </summary>
public sealed class ScheduledDispatchException : Exception
{
    private ScheduledDispatchException(string message, Exception? inner, bool rowAtFault, bool affectsOthers)
        : base(message, inner)
    {
        RowAtFault = rowAtFault;
        AffectsOthers = affectsOthers;
    }

    public bool RowAtFault { get; }

    public bool AffectsOthers { get; }

    /// <summary>The row cannot become a message (unknown type, a body or headers that do not deserialize).</summary>
    public static ScheduledDispatchException Unreadable(string message, Exception? inner = null) =>
        new(message, inner, rowAtFault: true, affectsOthers: false);

    /// <summary>The send failed; only when the bus reported itself healthy is it taken as the row's fault.</summary>
    public static ScheduledDispatchException SendFailed(Exception inner, bool busHealthy) =>
        new(inner.Message, inner, rowAtFault: busHealthy, affectsOthers: true);
}
