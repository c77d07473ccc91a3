namespace KlingService.Generation;

public enum AdmissionStatus
{
    /// <summary>New request: it waits in the backlog for a slot.</summary>
    Admitted,

    /// <summary>Known and not created yet: it is already waiting, or its task is being created.</summary>
    Waiting,

    /// <summary>The task exists and its job is being tracked.</summary>
    Submitted,

    /// <summary>The job already ended; nothing more is to be done or said.</summary>
    Ended,
}
