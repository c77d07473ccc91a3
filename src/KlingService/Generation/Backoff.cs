namespace KlingService.Generation;

/// <summary>Doubling pauses between tries, capped, spread so that many jobs failing together do not return as one burst.</summary>
public static class Backoff
{
    // One try of a database write or a publish; the broker or the database being away must not hang it.
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The pause before try <paramref name="attempt"/> + 1 (attempt is 1-based).</summary>
    public static TimeSpan Delay(int attempt, TimeSpan first, TimeSpan max, double spread = 0.2) =>
        Delay(attempt, first, max, spread, Random.Shared.NextDouble());

    /// <summary>
    /// The same pause, spread by <paramref name="draw"/>, a uniform draw in [0, 1): 0.5 leaves it as it is, so a
    /// decision that takes its draw as an input stays a pure function.
    /// </summary>
    public static TimeSpan Delay(int attempt, TimeSpan first, TimeSpan max, double spread, double draw)
    {
        var exponential = first.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        var capped = Math.Min(exponential, max.TotalMilliseconds);
        var factor = spread > 0 ? 1 - spread + (draw * 2 * spread) : 1;
        return TimeSpan.FromMilliseconds(capped * factor);
    }

    /// <summary>
    /// Runs <paramref name="action"/> until it succeeds, pausing with growing waits between tries.
    /// Once <paramref name="stoppingToken"/> fires, one more try is made, then it gives up
    /// (returns false) unless <paramref name="untilDone"/> asks to keep going for as long as the process lives.
    /// </summary>
    public static async Task<bool> RetryAsync(
        Func<CancellationToken, Task> action,
        Action<Exception, int> onFailure,
        TimeProvider time,
        CancellationToken stoppingToken,
        bool untilDone = false,
        TimeSpan? first = null,
        TimeSpan? max = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var stopping = stoppingToken.IsCancellationRequested;
            using var attemptBound = new CancellationTokenSource(AttemptTimeout);
            try
            {
                await action(attemptBound.Token);
                return true;
            }
            catch (Exception e)
            {
                onFailure(e, attempt);
                if (stopping && !untilDone)
                {
                    return false;
                }
            }

            try
            {
                await Task.Delay(Delay(attempt, first ?? TimeSpan.FromMilliseconds(200), max ?? TimeSpan.FromSeconds(5), spread: 0), time, untilDone ? CancellationToken.None : stoppingToken);
            }
            catch (OperationCanceledException)
            {
                // One more try before giving up: the loop's next attempt.
            }
        }
    }
}
