using KlingService.Generation;
using Microsoft.Extensions.Options;

namespace KlingService.Jobs;

/// <summary>Deletes the records of jobs that ended more than <see cref="JobsOptions.RetentionPeriod"/> ago, so tables stop growing.</summary>
public sealed class JobRecordCleanup(IRequestLedger ledger, IOptions<JobsOptions> options, TimeProvider time, ILogger<JobRecordCleanup> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retention = options.Value.RetentionPeriod;
        // Often enough that a record outlives its period by a small share of it, at most an hour.
        var every = TimeSpan.FromTicks(Math.Clamp(retention.Ticks / 20, TimeSpan.FromSeconds(10).Ticks, TimeSpan.FromHours(1).Ticks));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, time, stoppingToken);
                var deleted = await ledger.DeleteEndedBeforeAsync(time.GetUtcNow() - retention, stoppingToken);
                if (deleted > 0)
                {
                    GenerationLog.RecordsDeleted(logger, deleted);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                GenerationLog.RecordCleanupFailed(logger, e.Message);
            }
        }
    }
}
