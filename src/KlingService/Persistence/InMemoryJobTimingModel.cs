using KlingService.Contracts;
using KlingService.Generation;
using Microsoft.Extensions.Options;

namespace KlingService.Persistence;

/// <summary>The timing model of one process (embedded mode, and the polling benchmark).</summary>
public sealed class InMemoryJobTimingModel(IOptions<GenerationOptions> options) : IJobTimingModel
{
    private readonly Dictionary<(VideoMode, int), TimingStatistics> _models = [];
    private readonly Lock _gate = new();

    public ValueTask<TimingStatistics> GetAsync(VideoMode mode, int durationSeconds, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Get(mode, durationSeconds));

    public TimingStatistics Get(VideoMode mode, int durationSeconds)
    {
        lock (_gate)
        {
            return _models.GetValueOrDefault((mode, durationSeconds), TimingStatistics.Cold);
        }
    }

    public Task RecordAsync(TimingObservation job, CancellationToken cancellationToken)
    {
        Record(job);
        return Task.CompletedTask;
    }

    public void Record(TimingObservation job)
    {
        var settings = options.Value;
        lock (_gate)
        {
            var current = _models.GetValueOrDefault((job.Mode, job.DurationSeconds), TimingStatistics.Cold);
            var added = TimingEstimator.Contribution(job, current, settings.TimingWarmAfter);
            _models[(job.Mode, job.DurationSeconds)] = current.Learn(added, TimingStatistics.Decay(settings.TimingMemory));
        }
    }
}
