namespace KlingService.Generation;

/// <summary>What a cancel did to a request.</summary>
public enum CancelEffect
{
    /// <summary>Already ended or already cancelled: nothing changed.</summary>
    None,

    /// <summary>
    /// Unknown: its command has not arrived (it travels on another queue, and may sit behind a backlog). The cancel is
    /// remembered for the retention period, so the command, when it comes, ends Cancelled with nothing created.
    /// </summary>
    CancelledBeforeArrival,

    /// <summary>It was waiting: it ended, nothing was spent.</summary>
    EndedWaiting,

    /// <summary>Its create call was under way: a task may be created and charged; it will be followed quietly.</summary>
    CancelledWhileCreating,

    /// <summary>Its task generates: the money is spent; the job is followed quietly until the provider ends it.</summary>
    CancelledWhileGenerating,
}
