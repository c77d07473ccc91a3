using KlingService.Contracts;

namespace KlingService.Generation;

/// <summary>
/// The timing model per (mode, duration), learned from the service's own finished jobs and shared
/// by every instance: in PostgreSQL when the service has it, in memory in embedded mode.
/// </summary>
public interface IJobTimingModel
{
    /// <summary>What is known now; may be a few seconds old (<see cref="GenerationOptions.TimingRefresh"/>).</summary>
    ValueTask<TimingStatistics> GetAsync(VideoMode mode, int durationSeconds, CancellationToken cancellationToken);

    /// <summary>Adds one successful job, older jobs weighing a little less (<see cref="GenerationOptions.TimingMemory"/>).</summary>
    Task RecordAsync(TimingObservation job, CancellationToken cancellationToken);
}
