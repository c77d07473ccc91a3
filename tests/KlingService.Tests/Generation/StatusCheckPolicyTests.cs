using KlingService.Generation;
using Microsoft.Extensions.Options;

namespace KlingService.Tests.Generation;

public sealed class StatusCheckPolicyTests
{
    private readonly StatusCheckPolicy _policy = new(Options.Create(new GenerationOptions
    {
        FirstCheckAfter = TimeSpan.FromSeconds(15),
        MinCheckInterval = TimeSpan.FromSeconds(2),
        MaxCheckInterval = TimeSpan.FromSeconds(60),
        CheckBackoffFactor = 2,
        EtaSlack = TimeSpan.FromSeconds(1),
    }));

    [Fact]
    public void Waits_a_short_eta_in_full_and_looks_just_after_it() =>
        Assert.Equal(TimeSpan.FromSeconds(9), _policy.NextCheck(new VideoJobState { EtaSeconds = 8, ChecksMade = 3 }));

    [Fact]
    public void Looks_again_after_part_of_a_long_eta_in_case_the_estimate_is_late() =>
        Assert.Equal(TimeSpan.FromSeconds(28), _policy.NextCheck(new VideoJobState { EtaSeconds = 40, ChecksMade = 3 }));

    [Fact]
    public void Never_waits_longer_than_the_cap_even_for_a_long_eta() =>
        Assert.Equal(TimeSpan.FromSeconds(60), _policy.NextCheck(new VideoJobState { EtaSeconds = 600 }));

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    public void Polls_at_a_steady_interval_without_an_eta(int checksMade) =>
        Assert.Equal(TimeSpan.FromSeconds(10), _policy.NextCheck(new VideoJobState { ChecksMade = checksMade }));

    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 8)]
    [InlineData(4, 32)]
    [InlineData(10, 60)]
    public void Backs_off_geometrically_after_failed_checks_even_when_an_eta_is_known(int failures, int expectedSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), _policy.NextCheck(new VideoJobState { EtaSeconds = 1, ConsecutiveCheckFailures = failures }));

    private static readonly GenerationOptions Defaults = new();

    private static readonly StatusCheckPolicy DefaultPolicy = new(Options.Create(Defaults));

    /// <summary>What the model holds after many jobs whose log values had this mean and spread.</summary>
    private static LogMoments Learned(double mean, double spread, double weight = 200) =>
        new(weight, mean * weight, ((spread * spread) + (mean * mean)) * weight);

    // Jobs learned from a provider whose times and etas are nothing like the defaults assume.
    private static readonly TimingStatistics Unusual = new(Learned(Math.Log(900), 0.1), Learned(Math.Log(2), 0.05));

    public static TheoryData<int?, int, double> JobsAsTheLastCheckLeftThem() => new()
    {
        { 8, 0, 20 },
        { 40, 0, 20 },
        { 600, 0, 20 },
        { null, 0, 20 },
        { null, 0, 500 },
        { 30, 2, 20 },
    };

    [Theory]
    [MemberData(nameof(JobsAsTheLastCheckLeftThem))]
    public void Until_the_model_is_warm_every_check_is_planned_as_before_it_learned(int? eta, int failures, double elapsedSeconds)
    {
        var job = new VideoJobState { EtaSeconds = eta, ConsecutiveCheckFailures = failures, ChecksMade = 2 };
        var almostWarm = new TimingStatistics(
            Unusual.Total with { Weight = Defaults.TimingWarmAfter - 0.5 }, Unusual.EtaError with { Weight = Defaults.TimingWarmAfter - 0.5 });
        foreach (var model in new[] { TimingStatistics.Cold, almostWarm })
        {
            Assert.Equal(Defaults.FirstCheckAfter, DefaultPolicy.FirstCheck(model));
            Assert.Equal(DefaultPolicy.NextCheck(job), DefaultPolicy.NextCheck(job, model, TimeSpan.FromSeconds(elapsedSeconds)));
        }
    }

    [Theory]
    // eta stated, learned real ÷ stated, when the check should come (s): just past the corrected eta.
    [InlineData(100, 1.0, 100.1)]
    [InlineData(125, 0.8, 100.1)]
    [InlineData(75, 4.0 / 3, 100.1)]
    [InlineData(300, 1.0, 300.4)]
    public void A_warm_model_aims_the_next_check_just_past_the_eta_corrected_by_its_learned_bias(int eta, double ratio, double expectedSeconds)
    {
        var model = new TimingStatistics(Learned(Math.Log(100), 0.6), Learned(Math.Log(ratio), 0));
        var next = DefaultPolicy.NextCheck(new VideoJobState { EtaSeconds = eta, ChecksMade = 1 }, model, TimeSpan.FromSeconds(30));
        Assert.Equal(expectedSeconds, next.TotalSeconds, 0.5);
    }

    [Fact]
    public void When_the_learned_spread_is_wide_the_check_looks_early_enough_to_catch_an_early_finish_in_time()
    {
        // ±18 % (log): the finish may come anywhere from about 80 to 125 s; waiting for the late end
        // would see an early finish 45 s late, so look where the early end is, plus the lag allowed.
        var model = new TimingStatistics(Learned(Math.Log(100), 0.6), Learned(0, 0.18));
        var early = 99 * Math.Exp(-NormalDistribution.Quantile(Defaults.AimConfidence) * 0.18);
        var next = DefaultPolicy.NextCheck(new VideoJobState { EtaSeconds = 100, ChecksMade = 1 }, model, TimeSpan.FromSeconds(30));
        Assert.Equal(early + Defaults.TargetLag.TotalSeconds, next.TotalSeconds, 0.01);
    }

    [Theory]
    [InlineData(300, 300)]
    [InlineData(5000, 600)]
    public void An_aimed_check_may_wait_past_the_longest_interval_but_not_past_the_longest_aimed_one(int eta, double expectedSeconds)
    {
        var model = new TimingStatistics(Learned(Math.Log(100), 0.6), Learned(0, 0));
        var next = DefaultPolicy.NextCheck(new VideoJobState { EtaSeconds = eta, ChecksMade = 1 }, model, TimeSpan.FromSeconds(30));
        Assert.Equal(expectedSeconds, next.TotalSeconds, 1.0);
    }

    [Fact]
    public void A_warm_model_places_the_first_check_where_only_a_few_jobs_have_finished()
    {
        var model = new TimingStatistics(Learned(Math.Log(100), 0.6), default);
        var share = 100 * Math.Exp(0.6 * NormalDistribution.Quantile(Defaults.FirstCheckShare));
        Assert.Equal(share, DefaultPolicy.FirstCheck(model).TotalSeconds, 0.01);
    }

    [Theory]
    // seconds since creation, the next check (s): wait for the first likely finish, then steady, then sparser in the tail.
    [InlineData(5, 24.2)]
    [InlineData(29.2, 10)]
    [InlineData(100, 10)]
    [InlineData(340, 10)]
    public void Without_an_eta_a_warm_model_checks_where_finishes_are_likely(double elapsedSeconds, double expectedSeconds)
    {
        var model = new TimingStatistics(Learned(Math.Log(100), 0.6), default);
        var next = DefaultPolicy.NextCheck(new VideoJobState { ChecksMade = 1 }, model, TimeSpan.FromSeconds(elapsedSeconds));
        Assert.Equal(expectedSeconds, next.TotalSeconds, 0.1);
    }

    [Fact]
    public void Without_an_eta_the_few_jobs_still_running_past_the_likely_finishes_are_checked_less_often_up_to_the_cap()
    {
        var model = new TimingStatistics(Learned(Math.Log(100), 0.6), default);
        var gaps = new[] { 400.0, 800, 100_000 }
            .Select(elapsed => DefaultPolicy.NextCheck(new VideoJobState { ChecksMade = 30 }, model, TimeSpan.FromSeconds(elapsed)))
            .ToList();
        Assert.True(gaps[0] > Defaults.NoEtaCheckInterval && gaps[1] > gaps[0], string.Join(", ", gaps));
        Assert.Equal(Defaults.MaxCheckInterval, gaps[2]);
    }

    [Fact]
    public void Failed_checks_still_back_off_with_a_warm_model()
    {
        var model = new TimingStatistics(Learned(Math.Log(100), 0.6), Learned(0, 0));
        var job = new VideoJobState { EtaSeconds = 100, ConsecutiveCheckFailures = 3 };
        Assert.Equal(DefaultPolicy.NextCheck(job), DefaultPolicy.NextCheck(job, model, TimeSpan.FromSeconds(60)));
    }

    [Theory]
    // minutes since submission, planned delay (s) → delay kept (s); deadline 60 min, MinCheckInterval 2 s
    [InlineData(30, 600, 600)]
    [InlineData(52, 600, 478)]
    [InlineData(59.9, 60, 4)]
    [InlineData(59.99, 60, 2)]
    [InlineData(61, 60, 2)]
    [InlineData(10, 5, 5)]
    public void A_check_aimed_past_the_deadline_lands_just_before_it_and_never_sooner_than_the_minimum_interval(double minutesIn, double plannedSeconds, double keptSeconds)
    {
        var now = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        var job = new VideoJobState { SubmittedAt = now - TimeSpan.FromMinutes(minutesIn) };

        var due = DefaultPolicy.BeforeDeadline(job, now, now + TimeSpan.FromSeconds(plannedSeconds));

        Assert.Equal(keptSeconds, (due - now).TotalSeconds, precision: 3);
    }
}
