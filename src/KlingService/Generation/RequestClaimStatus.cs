namespace KlingService.Generation;

public enum RequestClaimStatus
{
    /// <summary>New request, or an earlier attempt lapsed: this caller may create the task.</summary>
    Claimed,

    /// <summary>Another attempt is creating the task right now.</summary>
    InProgress,

    /// <summary>The task exists and its job is being tracked.</summary>
    Submitted,

    /// <summary>The job already ended; nothing more is to be done or said.</summary>
    Ended,
}
