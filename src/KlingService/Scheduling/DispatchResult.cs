namespace KlingService.Scheduling;

/// <summary>What one round of dispatching did: rows sent, rows that failed (some set aside), and whether it stopped early.</summary>
public sealed record DispatchResult(int Sent, IReadOnlyList<FailedDispatch> Failed, bool Interrupted)
{
    public static readonly DispatchResult Nothing = new(0, [], false);

    /// <summary>Rows taken this round, sent or not.</summary>
    public int Handled => Sent + Failed.Count;
}
