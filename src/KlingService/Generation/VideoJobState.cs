using KlingService.Contracts;
using MassTransit;

namespace KlingService.Generation;

/// <summary>One tracked Kling task. CorrelationId is <see cref="TaskCorrelation.FromTaskId"/> of <see cref="TaskId"/>.</summary>
public sealed class VideoJobState : SagaStateMachineInstance, ISagaVersion
{
    public Guid CorrelationId { get; set; }

    public int Version { get; set; }

    public string CurrentState { get; set; } = "";

    public string TaskId { get; set; } = "";

    public Guid RequestId { get; set; }

    public VideoMode Mode { get; set; }

    public int DurationSeconds { get; set; }

    public DateTimeOffset SubmittedAt { get; set; }

    /// <summary>The provider's last reported status, verbatim.</summary>
    public string? Status { get; set; }

    public int? ProgressPercent { get; set; }

    public int? EtaSeconds { get; set; }

    /// <summary>The first eta the provider stated, and when: with the finish, what the timing model learns the eta's error from.</summary>
    public int? FirstEtaSeconds { get; set; }

    public DateTimeOffset? FirstEtaAt { get; set; }

    /// <summary>The last check that saw the task running: the finish came after it.</summary>
    public DateTimeOffset? LastRunningCheckAt { get; set; }

    /// <summary>The eta that check stated.</summary>
    public int? LastRunningEtaSeconds { get; set; }

    /// <summary>True when the last check saw a new status or progress, so subscribers hear of it.</summary>
    public bool Changed { get; set; }

    public int ChecksMade { get; set; }

    public int ConsecutiveCheckFailures { get; set; }

    public string? VideoUrl { get; set; }

    public int? VideoUrlTtlSeconds { get; set; }

    public string? VideoType { get; set; }

    /// <summary>When a check saw the task succeed: the video's time taken and its URL's expiry count from here.</summary>
    public DateTimeOffset? SucceededAt { get; set; }

    public DateTimeOffset? VideoUrlExpiresAt { get; set; }

    /// <summary>While the video is being stored: when the job stops waiting for the copy and delivers the provider's URL.</summary>
    public DateTimeOffset? StoreGiveUpAt { get; set; }

    /// <summary>
    /// While the video is being stored: the one-time token its StoreVideo carried. Only a copy asked for with it is
    /// made, and only an answer carrying it ends the job, so nothing else on the bus can do either.
    /// </summary>
    public Guid? StoreToken { get; set; }

    public string? FailureMessage { get; set; }

    /// <summary>What the last check means: the state machine ends the job on anything but Running.</summary>
    public CheckVerdict Verdict { get; set; }

    /// <summary>Consecutive checks the provider answered 404 (it does not know the task).</summary>
    public int NotFoundChecks { get; set; }

    /// <summary>The client cancelled: the task is followed to its end, and nothing more is published.</summary>
    public bool Cancelled { get; set; }

    /// <summary>When the pending status check is due; a repeated Submitted re-arms it only when it is missing or overdue.</summary>
    public DateTimeOffset? NextCheckAt { get; set; }

    public Guid? StatusCheckTokenId { get; set; }

    public Guid? DeadlineTokenId { get; set; }
}
