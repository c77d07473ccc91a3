namespace KlingService.Generation;

/// <summary>The outcome of <see cref="IRequestLedger.AdmitAsync"/>.</summary>
/// <param name="Status">What the ledger knows of the request.</param>
/// <param name="TaskId">The task already created for it, if any.</param>
public readonly record struct Admission(AdmissionStatus Status, string? TaskId = null)
{
    public static Admission Admitted => new(AdmissionStatus.Admitted);

    public static Admission Waiting => new(AdmissionStatus.Waiting);

    public static Admission Ended => new(AdmissionStatus.Ended);

    public static Admission Submitted(string taskId) => new(AdmissionStatus.Submitted, taskId);
}
