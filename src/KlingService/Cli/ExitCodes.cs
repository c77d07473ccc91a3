using KlingService.Contracts;

namespace KlingService.Cli;

/// <summary>
/// What the client commands exit with, one meaning per code across commands, so a script can branch
/// on a job's fate without parsing output. The README's "Command line" section lists the same table.
/// </summary>
public static class ExitCodes
{
    /// <summary>Sent; the video is ready; the request is cancelled.</summary>
    public const int Ok = 0;

    /// <summary>An unexpected error (a bug): the stack trace is on stderr.</summary>
    public const int Error = 1;

    /// <summary>Bad input, or the broker cannot be reached: one line on stderr.</summary>
    public const int BadInput = 2;

    /// <summary>The job ended without a video (any reason but Cancelled).</summary>
    public const int Failed = 3;

    /// <summary>The job was cancelled.</summary>
    public const int Cancelled = 4;

    /// <summary>The service has no record of the request.</summary>
    public const int Unknown = 5;

    /// <summary>The job is still waiting, being created or generating (or a cancel was not confirmed in time).</summary>
    public const int InProgress = 6;

    /// <summary>A cancel came too late: the job had already ended (Succeeded or Failed).</summary>
    public const int AlreadyEnded = 7;

    /// <summary>Stopped by Ctrl+C while following a job (the job goes on).</summary>
    public const int Interrupted = 130;

    public static int ForState(JobState state) => state switch
    {
        JobState.Succeeded => Ok,
        JobState.Failed => Failed,
        JobState.Cancelled => Cancelled,
        JobState.Unknown => Unknown,
        // Waiting, Creating, Generating, and any state added later that is not an ending.
        _ => InProgress,
    };

    public static int ForFailure(VideoFailed failed) => failed.Reason == VideoFailureReason.Cancelled ? Cancelled : Failed;
}
