namespace KlingService.Contracts;

/// <summary>The answer to <see cref="GetVideoJob"/>: what the service knows of one request.</summary>
/// <param name="RequestId">The request asked about.</param>
/// <param name="State">Where it stands; <see cref="JobState.Unknown"/> when the service has no record of it.</param>
/// <param name="TaskId">The Kling task, once created.</param>
/// <param name="ProviderStatus">The provider's last reported status, e.g. <c>TASK_STATUS_PROCESSING</c>.</param>
/// <param name="ProgressPercent">The provider's last reported progress, 0 to 100.</param>
/// <param name="EtaSeconds">The provider's last estimate of the time left.</param>
/// <param name="QueuePosition">While waiting: 1 for the next request to get a slot.</param>
/// <param name="AdmittedAt">When the command was accepted.</param>
/// <param name="SubmittedAt">When its task was created.</param>
/// <param name="EndedAt">When the job ended (or was cancelled).</param>
/// <param name="VideoUrl">The video, once ready.</param>
/// <param name="VideoUrlExpiresAt">When <paramref name="VideoUrl"/> stops working.</param>
/// <param name="Reason">Why the job failed, once it did.</param>
/// <param name="Message">Human-readable detail of the failure; not stable, do not parse.</param>
/// <param name="StoredVideoUrl">The service's stored copy of the video, once ready and stored (see <see cref="VideoReady.StoredVideoUrl"/>).</param>
/// <param name="StartBy">
/// The moment a request that is still waiting for a slot gives up (<see cref="VideoFailureReason.StartByPassed"/>): its
/// <see cref="GenerateVideo.StartBy"/>, or sooner when the service's longest wait ends first; null when it waits as long as it takes.
/// </param>
public sealed record VideoJobStatus(
    Guid RequestId,
    JobState State,
    string? TaskId = null,
    string? ProviderStatus = null,
    int? ProgressPercent = null,
    int? EtaSeconds = null,
    int? QueuePosition = null,
    DateTimeOffset? AdmittedAt = null,
    DateTimeOffset? SubmittedAt = null,
    DateTimeOffset? EndedAt = null,
    string? VideoUrl = null,
    DateTimeOffset? VideoUrlExpiresAt = null,
    VideoFailureReason? Reason = null,
    string? Message = null,
    string? StoredVideoUrl = null,
    DateTimeOffset? StartBy = null);
