namespace KlingService.Cli;

/// <summary>What a cancel achieved, as far as the client can tell.</summary>
public enum CancelVerdict
{
    /// <summary>Not known yet: the job is still running and no answer has arrived.</summary>
    Pending,

    /// <summary>The request is cancelled (by this command, or earlier).</summary>
    Cancelled,

    /// <summary>The job had ended before the cancel; it was left as it is.</summary>
    AlreadyEnded,

    /// <summary>The service has no record of the request.</summary>
    Unknown,
}
