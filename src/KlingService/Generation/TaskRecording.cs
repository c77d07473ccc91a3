namespace KlingService.Generation;

/// <summary>What became of a task id handed to <see cref="IRequestLedger.RecordTaskAsync"/>.</summary>
public enum TaskRecording
{
    /// <summary>Recorded under the claim that made the call.</summary>
    Recorded,

    /// <summary>The claim was lost, but the request had no task: recorded all the same, so the paid task is tracked.</summary>
    RecordedAfterClaimLost,

    /// <summary>The request already had another task: this one is a duplicate charge.</summary>
    Duplicate,

    /// <summary>The request had already ended: this task was paid for after its request was given up.</summary>
    AfterEnd,
}
