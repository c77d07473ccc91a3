using KlingService.Contracts;

namespace KlingService.Generation;

/// <summary>Turns a request's record into the status a client reads: one pure mapping, tested by table.</summary>
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
        var ready = record.Outcome?.Ready;
        var failed = record.Outcome?.Failed;
        return new VideoJobStatus(
            requestId,
            state,
            record.TaskId,
            record.ProviderStatus,
            record.ProgressPercent,
            record.EtaSeconds,
            state == JobState.Waiting ? record.QueuePosition : null,
            record.AdmittedAt,
            record.SubmittedAt,
            record.EndedAt ?? record.CancelledAt,
            ready?.VideoUrl,
            ready?.VideoUrlExpiresAt,
            failed?.Reason,
            failed?.Message,
            ready?.StoredVideoUrl);
    }
}
