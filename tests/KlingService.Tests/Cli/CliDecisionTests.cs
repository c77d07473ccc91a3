using KlingService.Cli;
using KlingService.Contracts;
using Microsoft.Extensions.Configuration;

namespace KlingService.Tests.Cli;

/// <summary>The client commands' decisions, each a pure function: exit codes, a cancel's outcome, the watch table, the broker.</summary>
public sealed class CliDecisionTests
{
    [Theory]
    [InlineData(JobState.Succeeded, ExitCodes.Ok)]
    [InlineData(JobState.Failed, ExitCodes.Failed)]
    [InlineData(JobState.Cancelled, ExitCodes.Cancelled)]
    [InlineData(JobState.Unknown, ExitCodes.Unknown)]
    [InlineData(JobState.Waiting, ExitCodes.InProgress)]
    [InlineData(JobState.Creating, ExitCodes.InProgress)]
    [InlineData(JobState.Generating, ExitCodes.InProgress)]
    public void Status_exits_with_a_code_per_state(JobState state, int exitCode) => Assert.Equal(exitCode, ExitCodes.ForState(state));

    [Fact]
    public void Every_state_has_its_code_and_only_success_is_0() =>
        Assert.All(Enum.GetValues<JobState>(), state => Assert.Equal(state == JobState.Succeeded, ExitCodes.ForState(state) == 0));

    [Theory]
    [InlineData(VideoFailureReason.Cancelled, ExitCodes.Cancelled)]
    [InlineData(VideoFailureReason.GenerationFailed, ExitCodes.Failed)]
    [InlineData(VideoFailureReason.InvalidRequest, ExitCodes.Failed)]
    [InlineData(VideoFailureReason.CreateOutcomeUnknown, ExitCodes.Failed)]
    public void A_followed_job_that_failed_exits_3_or_4_when_cancelled(VideoFailureReason reason, int exitCode) =>
        Assert.Equal(exitCode, ExitCodes.ForFailure(new VideoFailed(Guid.NewGuid(), null, reason, "")));

    public static TheoryData<string, JobState?, CancelVerdict, int> CancelCases() => new()
    {
        // The ending event seen, the status asked → the verdict and exit code.
        { "cancelled", null, CancelVerdict.Cancelled, ExitCodes.Ok },
        { "cancelled", JobState.Generating, CancelVerdict.Cancelled, ExitCodes.Ok },
        { "ready", null, CancelVerdict.AlreadyEnded, ExitCodes.AlreadyEnded },
        { "failed", null, CancelVerdict.AlreadyEnded, ExitCodes.AlreadyEnded },
        { "none", JobState.Cancelled, CancelVerdict.Cancelled, ExitCodes.Ok },
        { "none", JobState.Succeeded, CancelVerdict.AlreadyEnded, ExitCodes.AlreadyEnded },
        { "none", JobState.Failed, CancelVerdict.AlreadyEnded, ExitCodes.AlreadyEnded },
        { "none", JobState.Unknown, CancelVerdict.Unknown, ExitCodes.Unknown },
        // The cancel travels on its own queue: a job still running has not seen it yet.
        { "none", JobState.Waiting, CancelVerdict.Pending, ExitCodes.InProgress },
        { "none", JobState.Creating, CancelVerdict.Pending, ExitCodes.InProgress },
        { "none", JobState.Generating, CancelVerdict.Pending, ExitCodes.InProgress },
        { "none", null, CancelVerdict.Pending, ExitCodes.InProgress },
    };

    [Theory]
    [MemberData(nameof(CancelCases))]
    public void A_cancel_s_outcome_comes_from_the_job_s_ending_else_its_status(string ending, JobState? state, CancelVerdict verdict, int exitCode)
    {
        var id = Guid.NewGuid();
        object? seen = ending switch
        {
            "cancelled" => new VideoFailed(id, "t", VideoFailureReason.Cancelled, "Cancelled while generating"),
            "failed" => new VideoFailed(id, "t", VideoFailureReason.GenerationFailed, "boom"),
            "ready" => new VideoReady(id, "t", "https://v", null, "mp4", TimeSpan.FromSeconds(3)),
            _ => null,
        };

        var decided = CancelCommand.Decide(seen, state is { } s ? new VideoJobStatus(id, s) : null);

        Assert.Equal((verdict, exitCode), (decided, CancelCommand.ExitCode(decided)));
    }

    [Fact]
    public void The_watch_table_folds_a_job_s_events_into_one_row_that_a_late_progress_does_not_reopen()
    {
        var board = new JobBoard();
        var id = Guid.NewGuid();
        var start = DateTimeOffset.Parse("2026-11-25T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        JobEvent Seen(object message, int second) => new(message.GetType().Name, id, message, start.AddSeconds(second));

        board.Apply(Seen(new VideoGenerationSubmitted(id, "task-1", start, VideoMode.Standard, 5), 1));
        var progressed = board.Apply(Seen(new VideoGenerationProgressed(id, "task-1", "TASK_STATUS_PROCESSING", 40, 12), 5));
        var ended = board.Apply(Seen(new VideoReady(id, "task-1", "https://v", null, "mp4", TimeSpan.FromSeconds(9)), 9));
        var late = board.Apply(Seen(new VideoGenerationProgressed(id, "task-1", "TASK_STATUS_PROCESSING", 90, 1), 10));

        Assert.Equal(("Generating", "PROCESSING", 40, 12), (progressed.State, progressed.ProviderStatus, progressed.ProgressPercent, progressed.EtaSeconds));
        Assert.Equal(("Succeeded", "SUCCEED", 100, (int?)null), (ended.State, ended.ProviderStatus, ended.ProgressPercent, ended.EtaSeconds));
        Assert.Equal(ended, late);
        // Age counts from the task's creation and stops at the end.
        Assert.Equal(TimeSpan.FromSeconds(9), late.Age(start.AddHours(1)));
        Assert.Single(board.Rows(10));
    }

    [Fact]
    public void The_watch_table_shows_running_jobs_first_oldest_on_top_then_the_latest_endings()
    {
        var board = new JobBoard();
        var start = DateTimeOffset.UnixEpoch;
        var ids = Enumerable.Range(0, 4).Select(_ => Guid.NewGuid()).ToList();
        for (var i = 0; i < ids.Count; i++)
        {
            board.Apply(new JobEvent("VideoGenerationSubmitted", ids[i], new VideoGenerationSubmitted(ids[i], $"t{i}", start.AddSeconds(i), VideoMode.Standard, 5), start.AddSeconds(i)));
        }

        board.Apply(new JobEvent("VideoFailed", ids[0], new VideoFailed(ids[0], "t0", VideoFailureReason.Cancelled, ""), start.AddSeconds(10)));
        board.Apply(new JobEvent("VideoFailed", ids[2], new VideoFailed(ids[2], "t2", VideoFailureReason.TimedOut, ""), start.AddSeconds(11)));

        Assert.Equal([ids[1], ids[3], ids[2], ids[0]], board.Rows(10).Select(r => r.RequestId));
        Assert.Equal(["Generating", "Generating", "Failed (TimedOut)", "Cancelled"], board.Rows(10).Select(r => r.State));
        Assert.Equal(3, board.Rows(3).Count);
    }

    [Fact]
    public void The_watch_table_keeps_the_most_recent_jobs_up_to_its_bound_forgetting_the_longest_ended_first()
    {
        var board = new JobBoard(capacity: 3);
        var start = DateTimeOffset.UnixEpoch;
        var ids = Enumerable.Range(0, 6).Select(_ => Guid.NewGuid()).ToList();
        JobEvent Submitted(int i) => new("VideoGenerationSubmitted", ids[i], new VideoGenerationSubmitted(ids[i], $"t{i}", start.AddSeconds(i), VideoMode.Standard, 5), start.AddSeconds(i));

        board.Apply(Submitted(0));
        board.Apply(Submitted(1));
        board.Apply(new JobEvent("VideoFailed", ids[1], new VideoFailed(ids[1], "t1", VideoFailureReason.TimedOut, ""), start.AddSeconds(2)));
        board.Apply(Submitted(2));
        board.Apply(Submitted(3));
        var afterEnded = board.Rows(10).Select(r => r.RequestId).ToList();
        for (var i = 4; i < 6; i++)
        {
            board.Apply(Submitted(i));
        }

        // The ended job goes before any running one; then the longest running.
        Assert.Equal([ids[0], ids[2], ids[3]], afterEnded);
        Assert.Equal(3, board.Count);
        Assert.Equal([ids[3], ids[4], ids[5]], board.Rows(10).Select(r => r.RequestId));
    }

    [Fact]
    public void Status_shows_only_what_the_service_filled_in_and_no_stale_eta_once_the_job_ended()
    {
        var id = Guid.NewGuid();
        var generating = new VideoJobStatus(id, JobState.Generating, TaskId: "t", ProviderStatus: "TASK_STATUS_PROCESSING", ProgressPercent: 40, EtaSeconds: 12);
        var ended = generating with { State = JobState.Succeeded, EndedAt = DateTimeOffset.UnixEpoch, VideoUrl = "https://v" };

        Assert.Equal(["Request", "State", "Task", "Provider status", "Progress", "Eta"], StatusCommand.Rows(generating).Select(r => r.Field));
        Assert.Equal("12s", StatusCommand.Rows(generating).Single(r => r.Field == "Eta").Value);
        Assert.Equal(["Request", "State", "Task", "Provider status", "Progress", "Ended", "Video URL"], StatusCommand.Rows(ended).Select(r => r.Field));
    }

    [Theory]
    [InlineData("amqp://guest:guest@rabbit:5672/", null, "rabbit:5672/")]
    [InlineData(null, "amqp://u:p@rabbit/kling", "rabbit:5672/kling")]
    [InlineData("amqps://u:p@rabbit:5999/v", "amqp://other/", "rabbit:5999/v")]
    public void The_broker_is_the_option_else_the_connection_string_and_is_named_without_credentials(string? option, string? configured, string described)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:RabbitMq"] = configured }).Build();

        Assert.Equal(described, BrokerAddress.Describe(BrokerAddress.Resolve(option, configuration)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("http://user:secret-pw@rabbit:15672/")]
    [InlineData("not a uri secret-pw")]
    public void A_missing_or_non_amqp_broker_is_refused_without_echoing_it(string? option)
    {
        var error = Assert.Throws<CliException>(() => BrokerAddress.Resolve(option, new ConfigurationBuilder().Build()));

        Assert.Contains("amqp://", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-pw", error.Message, StringComparison.Ordinal);
    }
}
