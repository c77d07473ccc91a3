using KlingService.Contracts;

namespace KlingService.Generation;

/// <summary>
/// What one successful job tells the timing model. The finish is interval-censored: it happened
/// after the last check that saw the task running and by the check that found it done (seconds
/// since submission). The first eta the provider stated, and when, relates its estimate to that finish;
/// the eta stated at the last running check, the freshest and shortest, places it before the model can.
/// </summary>
public sealed record TimingObservation(
    VideoMode Mode,
    int DurationSeconds,
    double FinishedAfter,
    double FinishedBy,
    int? FirstEtaSeconds,
    double? FirstEtaStatedAt,
    int? LastEtaSeconds = null)
{
    public static TimingObservation Of(VideoJobState job, DateTimeOffset foundDoneAt) => new(
        job.Mode,
        job.DurationSeconds,
        job.LastRunningCheckAt is { } running ? Math.Max(0, (running - job.SubmittedAt).TotalSeconds) : 0,
        Math.Max(0, (foundDoneAt - job.SubmittedAt).TotalSeconds),
        job.FirstEtaSeconds,
        job.FirstEtaAt is { } stated ? Math.Max(0, (stated - job.SubmittedAt).TotalSeconds) : null,
        job.LastRunningEtaSeconds);

    /// <summary>What a check that saw the task still running adds to the job's timing history.</summary>
    public static void NoteRunning(VideoJobState job, DateTimeOffset now)
    {
        job.LastRunningCheckAt = now;
        job.LastRunningEtaSeconds = job.EtaSeconds;
        if (job.FirstEtaSeconds is null && job.EtaSeconds is > 0)
        {
            job.FirstEtaSeconds = job.EtaSeconds;
            job.FirstEtaAt = now;
        }
    }
}
