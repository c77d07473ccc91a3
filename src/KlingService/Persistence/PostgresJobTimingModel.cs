using KlingService.Contracts;
using KlingService.Generation;
using Microsoft.Extensions.Options;
using Npgsql;

namespace KlingService.Persistence;

/// <summary>
/// The timing model shared by every instance: one row of decayed sums per (mode, duration), each
/// finished job folded in by one atomic upsert (x = x × decay + new), so instances finishing jobs
/// together lose none. Reads come from a copy of the whole table (a handful of rows) refreshed at
/// most every <see cref="GenerationOptions.TimingRefresh"/>, so a status check costs no query.
/// </summary>
public sealed class PostgresJobTimingModel(NpgsqlDataSource dataSource, IOptions<GenerationOptions> options, TimeProvider time)
    : IJobTimingModel
{
    private const string ReadAll = $"""
        SELECT mode, duration_seconds, total_weight, total_sum, total_sum_sq, eta_weight, eta_sum, eta_sum_sq
        FROM {PostgresSchema.TimingModel}
        """;

    private const string Fold = $"""
        INSERT INTO {PostgresSchema.TimingModel} AS m
            (mode, duration_seconds, total_weight, total_sum, total_sum_sq, eta_weight, eta_sum, eta_sum_sq)
        VALUES (@mode, @duration_seconds, @total_weight, @total_sum, @total_sum_sq, @eta_weight, @eta_sum, @eta_sum_sq)
        ON CONFLICT (mode, duration_seconds) DO UPDATE SET
            total_weight = CASE WHEN excluded.total_weight > 0 THEN m.total_weight * @decay + excluded.total_weight ELSE m.total_weight END,
            total_sum = CASE WHEN excluded.total_weight > 0 THEN m.total_sum * @decay + excluded.total_sum ELSE m.total_sum END,
            total_sum_sq = CASE WHEN excluded.total_weight > 0 THEN m.total_sum_sq * @decay + excluded.total_sum_sq ELSE m.total_sum_sq END,
            eta_weight = CASE WHEN excluded.eta_weight > 0 THEN m.eta_weight * @decay + excluded.eta_weight ELSE m.eta_weight END,
            eta_sum = CASE WHEN excluded.eta_weight > 0 THEN m.eta_sum * @decay + excluded.eta_sum ELSE m.eta_sum END,
            eta_sum_sq = CASE WHEN excluded.eta_weight > 0 THEN m.eta_sum_sq * @decay + excluded.eta_sum_sq ELSE m.eta_sum_sq END,
            updated_at = now()
        """;

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile Snapshot _snapshot = new(DateTimeOffset.MinValue, []);

    public async ValueTask<TimingStatistics> GetAsync(VideoMode mode, int durationSeconds, CancellationToken cancellationToken)
    {
        var snapshot = _snapshot;
        if (time.GetUtcNow() - snapshot.ReadAt >= options.Value.TimingRefresh)
        {
            snapshot = await RefreshAsync(cancellationToken);
        }

        return snapshot.Models.GetValueOrDefault((mode, durationSeconds), TimingStatistics.Cold);
    }

    public async Task RecordAsync(TimingObservation job, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        // The E-step reads the fit as this instance knows it (at most TimingRefresh old): close enough,
        // and the sums themselves are folded in the database, never overwritten.
        var current = await GetAsync(job.Mode, job.DurationSeconds, cancellationToken);
        var added = TimingEstimator.Contribution(job, current, settings.TimingWarmAfter);
        if (added.Total.Weight <= 0 && added.EtaError.Weight <= 0)
        {
            return;
        }

        await using var command = dataSource.CreateCommand(Fold);
        command.Parameters.AddWithValue("mode", job.Mode.ToString());
        command.Parameters.AddWithValue("duration_seconds", job.DurationSeconds);
        command.Parameters.AddWithValue("total_weight", added.Total.Weight);
        command.Parameters.AddWithValue("total_sum", added.Total.Sum);
        command.Parameters.AddWithValue("total_sum_sq", added.Total.SumOfSquares);
        command.Parameters.AddWithValue("eta_weight", added.EtaError.Weight);
        command.Parameters.AddWithValue("eta_sum", added.EtaError.Sum);
        command.Parameters.AddWithValue("eta_sum_sq", added.EtaError.SumOfSquares);
        command.Parameters.AddWithValue("decay", TimingStatistics.Decay(settings.TimingMemory));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<Snapshot> RefreshAsync(CancellationToken cancellationToken)
    {
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            // Another caller may have refreshed while this one waited.
            if (time.GetUtcNow() - _snapshot.ReadAt < options.Value.TimingRefresh)
            {
                return _snapshot;
            }

            var models = new Dictionary<(VideoMode, int), TimingStatistics>();
            await using var command = dataSource.CreateCommand(ReadAll);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                if (Enum.TryParse<VideoMode>(reader.GetString(0), out var mode))
                {
                    models[(mode, reader.GetInt32(1))] = new TimingStatistics(
                        new LogMoments(reader.GetDouble(2), reader.GetDouble(3), reader.GetDouble(4)),
                        new LogMoments(reader.GetDouble(5), reader.GetDouble(6), reader.GetDouble(7)));
                }
            }

            _snapshot = new Snapshot(time.GetUtcNow(), models);
            return _snapshot;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private sealed record Snapshot(DateTimeOffset ReadAt, Dictionary<(VideoMode, int), TimingStatistics> Models);
}
