using System.Text.Json;

namespace KlingService.Scheduling;

/// <summary>
/// Sends one round of due rows (see <see cref="ScheduledMessageStore.DispatchDueAsync"/>). Rows of one job (same requestId
/// or correlationId) go out one after the other, in order; different jobs' rows go out side by side, so one slow send
/// does not hold up the round. A failure that may be the broker's ends the round; the rows not sent stay due.
/// </summary>
internal sealed class ScheduledSendRound(
    Func<ScheduledMessageRow, Task> send, Func<ScheduledMessageRow, Exception, FailedDispatch> failure, CancellationToken cancellationToken)
{
    // Sends in flight at once, one per job: enough to hide a broker round trip each.
    private const int SendLanes = 16;

    private readonly Lock _gate = new();
    private bool _interrupted;

    public List<Guid> Sent { get; } = [];

    public List<FailedDispatch> Failed { get; } = [];

    /// <summary>A send failed in a way that may not be the row's own fault (or the service is stopping): the round ended early.</summary>
    public bool Interrupted => Volatile.Read(ref _interrupted);

    public async Task SendAsync(IReadOnlyList<ScheduledMessageRow> due)
    {
        var lanes = due.GroupBy(LaneOf).Select(lane => lane.ToList()).ToList();

        // The oldest row goes alone first: when the broker is away, the round ends after one failed
        // send instead of one per lane.
        if (lanes.Count > 0 && !await SendOneAsync(lanes[0][0]))
        {
            lanes.RemoveAt(0);
        }
        else if (lanes.Count > 0)
        {
            lanes[0].RemoveAt(0);
        }

        await Parallel.ForEachAsync(lanes, new ParallelOptions { MaxDegreeOfParallelism = SendLanes }, async (lane, _) =>
        {
            foreach (var row in lane)
            {
                if (!await SendOneAsync(row))
                {
                    return;
                }
            }
        });
    }

    // False when the lane must stop: the row failed (a later row of its job must not overtake it),
    // or the round is over.
    private async Task<bool> SendOneAsync(ScheduledMessageRow row)
    {
        if (cancellationToken.IsCancellationRequested || Interrupted)
        {
            // Shutting down, or the broker is in trouble: keep what was sent, the rest stays due.
            return false;
        }

        try
        {
            await send(row);
            lock (_gate)
            {
                Sent.Add(row.TokenId);
            }

            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception e)
        {
            lock (_gate)
            {
                Failed.Add(failure(row, e));
            }

            if (e is not ScheduledDispatchException { AffectsOthers: false })
            {
                Volatile.Write(ref _interrupted, true);
            }

            return false;
        }
    }

    /// <summary>The job a row belongs to, read from its body (every message of the service names its request or its saga).</summary>
    private static string LaneOf(ScheduledMessageRow row)
    {
        try
        {
            using var body = JsonDocument.Parse(row.Body);
            foreach (var name in new[] { "requestId", "correlationId" })
            {
                if (body.RootElement.ValueKind == JsonValueKind.Object
                    && body.RootElement.TryGetProperty(name, out var key) && key.ValueKind == JsonValueKind.String)
                {
                    return key.GetString()!;
                }
            }
        }
        catch (JsonException)
        {
            // A body that does not parse fails on its own when sent; it gets a lane of its own.
        }

        return row.TokenId.ToString();
    }
}
