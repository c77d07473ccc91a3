using KlingService.Contracts;
using KlingService.Kling;

namespace KlingService.Generation;

/// <summary>Turns a request's record into the status a client reads: one pure mapping, tested by table.</summary>
/// <remarks>
/// The record's provider fields are the last check's report, and the job can end without a later
/// one (a success delivered as it is, a deadline, a cancel), so a terminal status does not repeat
/// them blindly:
/// <list type="bullet">
/// <item>Succeeded: the provider's final status, 100 %, no estimate, whatever check last wrote.</item>
/// <item>Failed or Cancelled: the provider's status only when it was final (it says how the task
/// ended); a running one is dropped, since no "processing" claim is true of a job that is over. Progress
/// and estimate are dropped too: they measure the way to a video this job will not deliver, and
/// a frozen 81 % reads as a job still under way.</item>
/// </list>
/// EndedAt never moves once shown: a cancelled job ended for its client at the cancel, even though
/// its record ends later, when the provider is done with the task and its slot is free.
/// </remarks>
public static class JobStatusView
{
    public static VideoJobStatus From(Guid requestId, JobRecord? record)
    {
        if (record is null)
        {
            return new VideoJobStatus(requestId, JobState.Unknown);
        }

        var state = record switch
        {
            { CancelledAt: not null } => JobState.Cancelled,
            { EndedAt: not null, Outcome.Ready: not null } => JobState.Succeeded,
            { EndedAt: not null } => JobState.Failed,
            { TaskId: not null } => JobState.Generating,
            { CreateUnderWay: true } => JobState.Creating,
            _ => JobState.Waiting,
        };
        var (providerStatus, progressPercent, etaSeconds) = state switch
        {
            JobState.Succeeded => (KlingTaskStatus.Succeed, 100, null),
            JobState.Failed or JobState.Cancelled =>
                (ProviderStatuses.Verdict(record.ProviderStatus) == CheckVerdict.Running ? null : record.ProviderStatus, (int?)null, (int?)null),
            _ => (record.ProviderStatus, record.ProgressPercent, record.EtaSeconds),
        };
        var ready = record.Outcome?.Ready;
        var failed = record.Outcome?.Failed;
        return new VideoJobStatus(
            requestId,
            state,
            record.TaskId,
            providerStatus,
            progressPercent,
            etaSeconds,
            state == JobState.Waiting ? record.QueuePosition : null,
            record.AdmittedAt,
            record.SubmittedAt,
            record.CancelledAt ?? record.EndedAt,
            ready?.VideoUrl,
            ready?.VideoUrlExpiresAt,
            failed?.Reason,
            failed?.Message,
            ready?.StoredVideoUrl,
            record.StartBy);
    }
}
