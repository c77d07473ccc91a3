namespace KlingService.Contracts;

/// <summary>Where a request stands; travels on the wire by name. New states may be added.</summary>
public enum JobState
{
    /// <summary>The service has no record of the request (never received, or its record outlived the retention period).</summary>
    Unknown,

    /// <summary>Accepted, waiting for one of the account's generation slots.</summary>
    Waiting,

    /// <summary>Its task is being created at the provider right now.</summary>
    Creating,

    /// <summary>The provider is generating the video.</summary>
    Generating,

    /// <summary>Ended with a video (<see cref="VideoReady"/>).</summary>
    Succeeded,

    /// <summary>Ended without a video (<see cref="VideoFailed"/>).</summary>
    Failed,

    /// <summary>Cancelled by the client (<see cref="VideoFailed"/> with reason Cancelled).</summary>
    Cancelled,
}
