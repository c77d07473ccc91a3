using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Persistence;
using Microsoft.Extensions.Options;

namespace KlingService.Tests.Generation;

/// <summary>
/// The timing model learning from jobs as the saga plays them: the real policy plans each check,
/// a provider states its eta (whole seconds, rounded up, as the API and the simulator do), and each
/// finished job teaches the in-memory model (the statistics PostgreSQL folds are the same).
/// </summary>
public sealed class JobTimingModelTests
{
    private static readonly DateTimeOffset Epoch = DateTimeOffset.UnixEpoch;

    private readonly GenerationOptions _options = new();

    private readonly StatusCheckPolicy _policy;

    private readonly InMemoryJobTimingModel _model;

    private readonly Random _random = new(7);

    private int _jobs;

    public JobTimingModelTests()
    {
        _policy = new StatusCheckPolicy(Options.Create(_options));
        _model = new InMemoryJobTimingModel(Options.Create(_options));
    }

    private TimingStatistics Learned => _model.Get(VideoMode.Standard, 5);

    /// <summary>Runs jobs of 40 s to 5 min against a provider whose eta says <paramref name="statedPerReal"/> seconds per real second left; returns the status calls each took.</summary>
    private List<int> Run(int jobs, double statedPerReal)
    {
        var calls = new List<int>(jobs);
        for (var i = 0; i < jobs; i++)
        {
            var duration = 40 + (_random.NextDouble() * 260);
            var model = Learned;
            var job = new VideoJobState
            {
                CorrelationId = TaskCorrelation.FromTaskId($"task-{_jobs++}"), Mode = VideoMode.Standard, DurationSeconds = 5, SubmittedAt = Epoch,
            };
            var now = _policy.FirstCheck(model).TotalSeconds;
            var made = 1;
            for (; now < duration; made++)
            {
                job.ChecksMade++;
                job.EtaSeconds = (int)Math.Ceiling((duration - now) * statedPerReal);
                TimingObservation.NoteRunning(job, Epoch.AddSeconds(now));
                now += _policy.NextCheck(job, model, TimeSpan.FromSeconds(now)).TotalSeconds;
            }

            _model.Record(TimingObservation.Of(job, Epoch.AddSeconds(now)));
            calls.Add(made);
        }

        return calls;
    }

    [Theory]
    [InlineData(1.25)]
    [InlineData(0.75)]
    public void The_model_finds_the_bias_of_a_provider_whose_eta_is_off_by_a_quarter(double statedPerReal)
    {
        var calls = Run(600, statedPerReal);

        Assert.Equal(1 / statedPerReal, Math.Exp(Learned.EtaError.Mean), 0.01);
        // One check to learn the eta and one just after the corrected eta: the second finds it done.
        Assert.True(calls.TakeLast(200).Average() <= 2.1, $"{calls.TakeLast(200).Average():F2} calls per job once learned");
    }

    [Fact]
    public void The_model_follows_a_provider_whose_tasks_slow_down()
    {
        Run(400, 1.0);
        Assert.Equal(1.0, Math.Exp(Learned.EtaError.Mean), 0.01);

        // The eta now says 0.8 s for every real second left: aimed checks come too early, and each
        // such miss pins the finish down through the short eta the task then states.
        var calls = Run(5 * _options.TimingMemory, 0.8);

        Assert.Equal(1.25, Math.Exp(Learned.EtaError.Mean), 0.01);
        Assert.True(calls.TakeLast(100).Average() <= 2.8, $"{calls.TakeLast(100).Average():F2} calls per job after the drift; learned {Math.Exp(Learned.EtaError.Mean):F3}× ± {Learned.EtaError.Spread:F3}");
    }

    [Fact]
    public void The_model_follows_a_provider_whose_tasks_speed_up_though_only_through_its_probes()
    {
        Run(400, 1.0);

        // The eta now says 1.25 s for every real second left: every aimed check finds the task done,
        // which says nothing; only the share of jobs that look early on purpose tell the difference.
        Run(5 * _options.TimingMemory, 1.25);

        var movedShare = Learned.EtaError.Mean / Math.Log(0.8);
        Assert.True(movedShare >= 2.0 / 3, $"learned {Math.Exp(Learned.EtaError.Mean):F3}× ± {Learned.EtaError.Spread:F3}, {movedShare:P0} of the way to 0.8×");
    }

    [Fact]
    public void Until_enough_jobs_are_learned_checks_are_planned_exactly_as_before()
    {
        Run(_options.TimingWarmAfter - 1, 1.25);
        var learned = Learned;

        Assert.True(learned.Total.Weight > 0 && learned.EtaError.Weight > 0);
        Assert.Equal(_options.FirstCheckAfter, _policy.FirstCheck(learned));
        foreach (var eta in new int?[] { null, 5, 40, 300 })
        {
            var job = new VideoJobState { EtaSeconds = eta, ChecksMade = 1 };
            Assert.Equal(_policy.NextCheck(job), _policy.NextCheck(job, learned, TimeSpan.FromSeconds(30)));
        }
    }

    [Fact]
    public void A_finish_found_long_after_the_eta_does_not_teach_the_model_that_the_eta_runs_long()
    {
        Run(400, 1.0);
        var before = Learned.EtaError.Mean;

        // A check that came late (a busy instance, an outage) found the task done twice the eta after
        // it was stated: the finish lies anywhere in that span, which says nothing against the eta.
        for (var i = 0; i < 50; i++)
        {
            _model.Record(new TimingObservation(VideoMode.Standard, 5, FinishedAfter: 30, FinishedBy: 230, FirstEtaSeconds: 100, FirstEtaStatedAt: 30));
        }

        Assert.Equal(before, Learned.EtaError.Mean, 0.01);
    }

    [Fact]
    public void Old_jobs_weigh_less_so_the_model_reflects_about_its_memory_of_recent_jobs()
    {
        Run(2000, 1.0);

        Assert.InRange(Learned.Total.Weight, _options.TimingMemory * 0.99, _options.TimingMemory);
    }
}
