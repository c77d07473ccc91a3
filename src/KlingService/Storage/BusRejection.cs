namespace KlingService.Storage;

/// <summary>Why an internal message from the bus was dropped: it did not match the job's own record.</summary>
public enum BusRejection
{
    /// <summary>
    /// No job is tracked under the message's id, or the record names another task (a Submitted for a task the
    /// ledger never recorded): forged, or late after the job ended.
    /// </summary>
    UnknownJob,

    /// <summary>The job is not storing its video.</summary>
    NotStoring,

    /// <summary>The job is storing, but under another one-time token than the message's.</summary>
    WrongToken,
}
