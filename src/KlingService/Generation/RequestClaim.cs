namespace KlingService.Generation;

/// <summary>The outcome of <see cref="IRequestLedger.TryClaimAsync"/>.</summary>
/// <param name="Status">What the ledger knows of the request.</param>
/// <param name="TaskId">The task already created for it, if any.</param>
public readonly record struct RequestClaim(RequestClaimStatus Status, string? TaskId = null)
{
    public static RequestClaim Claimed => new(RequestClaimStatus.Claimed);

    public static RequestClaim Ended => new(RequestClaimStatus.Ended);

    public static RequestClaim Busy => new(RequestClaimStatus.InProgress);

    public static RequestClaim Submitted(string taskId) => new(RequestClaimStatus.Submitted, taskId);
}
