using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Kling;

namespace KlingService.Tests.Jobs;

/// <summary>What a client reads of a record in each state, above all once the job is over: nothing stale, and an end that stays put.</summary>
public sealed class JobStatusViewTests
{
    private static readonly Guid RequestId = Guid.Parse("5b1c0f38-4a3e-4c55-9f5e-0d8b0a6c2e11");
    private static readonly DateTimeOffset Admitted = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Submitted = Admitted.AddSeconds(5);
    private static readonly DateTimeOffset Cancelled = Submitted.AddSeconds(60);
    private static readonly DateTimeOffset Ended = Submitted.AddSeconds(85);

    private static readonly JobRecord Generating = new(
        RequestId, "task-1", false, Admitted, Submitted, null, null, KlingTaskStatus.Processing, 82, 10, null, null);

    private static readonly JobOutcome Ready = JobOutcome.Of(new VideoReady(
        RequestId, "task-1", "https://cdn.example/1.mp4", Ended.AddHours(1), "mp4", Ended - Submitted));

    private static JobOutcome Failed(VideoFailureReason reason) => JobOutcome.Of(new VideoFailed(RequestId, "task-1", reason, "detail"));

    public static TheoryData<string, JobRecord, JobState, string?, int?, int?, DateTimeOffset?> Records => new()
    {
        { "generating: the last check's report as it is", Generating, JobState.Generating, KlingTaskStatus.Processing, 82, 10, null },
        {
            "succeeded, delivered right after a check that saw it processing",
            Generating with { EndedAt = Ended, Outcome = Ready },
            JobState.Succeeded, KlingTaskStatus.Succeed, 100, null, Ended
        },
        {
            "succeeded after its video was stored",
            Generating with { EndedAt = Ended, ProviderStatus = KlingTaskStatus.Succeed, ProgressPercent = 100, EtaSeconds = null, Outcome = Ready },
            JobState.Succeeded, KlingTaskStatus.Succeed, 100, null, Ended
        },
        {
            "failed by the provider: its final status stays, no progress",
            Generating with { EndedAt = Ended, ProviderStatus = KlingTaskStatus.Failed, ProgressPercent = 60, Outcome = Failed(VideoFailureReason.GenerationFailed) },
            JobState.Failed, KlingTaskStatus.Failed, null, null, Ended
        },
        {
            "cancelled on the provider's side: its final status stays",
            Generating with { EndedAt = Ended, ProviderStatus = "TASK_STATUS_CANCELLED", EtaSeconds = null, Outcome = Failed(VideoFailureReason.GenerationFailed) },
            JobState.Failed, "TASK_STATUS_CANCELLED", null, null, Ended
        },
        {
            "failed at its deadline while processing: no processing claim",
            Generating with { EndedAt = Ended, Outcome = Failed(VideoFailureReason.TimedOut) },
            JobState.Failed, null, null, null, Ended
        },
        {
            "cancelled while generating, the provider still at it",
            Generating with { CancelledAt = Cancelled, ProgressPercent = 81, Outcome = Failed(VideoFailureReason.Cancelled) },
            JobState.Cancelled, null, null, null, Cancelled
        },
        {
            "cancelled while generating, its record ended 25 s later",
            Generating with { CancelledAt = Cancelled, EndedAt = Ended, ProgressPercent = 81, Outcome = Failed(VideoFailureReason.Cancelled) },
            JobState.Cancelled, null, null, null, Cancelled
        },
        {
            "cancelled while generating, its task then succeeded",
            Generating with
            {
                CancelledAt = Cancelled, EndedAt = Ended, ProviderStatus = KlingTaskStatus.Succeed, ProgressPercent = 100, EtaSeconds = null,
                Outcome = Failed(VideoFailureReason.Cancelled),
            },
            JobState.Cancelled, KlingTaskStatus.Succeed, null, null, Cancelled
        },
        {
            "cancelled while waiting: ended as it was cancelled",
            new JobRecord(RequestId, null, false, Admitted, null, Cancelled, Cancelled, null, null, null, null, Failed(VideoFailureReason.Cancelled)),
            JobState.Cancelled, null, null, null, Cancelled
        },
    };

    [Theory]
    [MemberData(nameof(Records))]
    public void A_record_reads_as_its_state_with_only_what_is_still_true_of_it(
        string situation, JobRecord record, JobState state, string? providerStatus, int? progressPercent, int? etaSeconds, DateTimeOffset? endedAt)
    {
        var status = JobStatusView.From(RequestId, record);

        _ = situation; // names the row in the test's display name
        Assert.Equal(
            (state, providerStatus, progressPercent, etaSeconds, endedAt),
            (status.State, status.ProviderStatus, status.ProgressPercent, status.EtaSeconds, status.EndedAt));
    }
}
