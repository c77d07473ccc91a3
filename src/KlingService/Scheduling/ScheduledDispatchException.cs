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

    /// <summary>The send failed; it is taken as the row's fault only by <see cref="CountsAgainstTheRow"/>.</summary>
    public static ScheduledDispatchException SendFailed(Exception inner, bool busHealthy) =>
        new(inner.Message, inner, rowAtFault: CountsAgainstTheRow(inner, busHealthy), affectsOthers: true);

    /// <summary>
    /// A failed send is the row's own fault only when the bus said it was healthy and the broker answered with an
    /// error. A send that timed out or was cancelled says nothing against the row: a broker that blocks publishers
    /// (a memory or disk alarm) keeps its connection up and lets every send time out, and a row set aside for that
    /// would be an answer its client never hears.
    /// </summary>
    public static bool CountsAgainstTheRow(Exception failure, bool busHealthy) =>
        busHealthy && !Chain(failure).Any(e => e is OperationCanceledException or TimeoutException);

    private static IEnumerable<Exception> Chain(Exception failure)
    {
        for (var e = failure; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}
