namespace KlingService.Generation;

/// <summary>
/// The saga's link to the timing model: plans each check from what is learned for the job's mode
/// and duration, and teaches the model every job that succeeds. The model only advises: when it
/// cannot be read, checks are planned from what was known before (cold: as if nothing were learned),
/// and a job it fails to learn from ends as it would anyway.
/// </summary>
public sealed class StatusCheckPlanner(StatusCheckPolicy policy, IJobTimingModel model, TimeProvider time, ILogger<StatusCheckPlanner> logger)
{
    public async Task PlanFirstAsync(VideoJobState job, CancellationToken cancellationToken)
    {
        var learned = await ReadAsync(job, cancellationToken);
        var now = time.GetUtcNow();
        job.NextCheckAt = policy.BeforeDeadline(job, now, now + policy.FirstCheck(learned));
    }

    public async Task PlanNextAsync(VideoJobState job, CancellationToken cancellationToken)
    {
        var learned = await ReadAsync(job, cancellationToken);
        var now = time.GetUtcNow();
        job.NextCheckAt = policy.BeforeDeadline(job, now, now + policy.NextCheck(job, learned, now - job.SubmittedAt));
    }

    /// <summary>The delay to schedule the check planned last.</summary>
    public TimeSpan UntilNextCheck(VideoJobState job) =>
        job.NextCheckAt is { } due && due > time.GetUtcNow() ? due - time.GetUtcNow() : TimeSpan.Zero;

    public async Task RecordSucceededAsync(VideoJobState job, CancellationToken cancellationToken)
    {
        try
        {
            await model.RecordAsync(TimingObservation.Of(job, time.GetUtcNow()), cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            TimingLog.RecordFailed(logger, job.TaskId, e.Message);
        }
    }

    private async ValueTask<TimingStatistics> ReadAsync(VideoJobState job, CancellationToken cancellationToken)
    {
        try
        {
            return await model.GetAsync(job.Mode, job.DurationSeconds, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            TimingLog.ReadFailed(logger, e.Message);
            return TimingStatistics.Cold;
        }
    }
}
