using KlingService.Contracts;

namespace KlingService.Cli;

/// <summary>
/// The jobs seen on the bus, folded from their events; <c>watch</c> draws it. It keeps at most
/// <paramref name="capacity"/> jobs, the most recent, so hours of watching a busy deployment do not grow its memory.
/// </summary>
public sealed class JobBoard(int capacity = JobBoard.DefaultCapacity)
{
    public const int DefaultCapacity = 1000;

    private readonly Dictionary<Guid, JobRow> _rows = [];

    public int Count => _rows.Count;

    /// <summary>"TASK_STATUS_PROCESSING" → "PROCESSING".</summary>
    public static string ShortStatus(string status) => status.Replace("TASK_STATUS_", "", StringComparison.Ordinal);

    public JobRow Apply(JobEvent seen)
    {
        var row = _rows.GetValueOrDefault(seen.RequestId)
            ?? new JobRow(seen.RequestId, null, "Generating", null, null, null, seen.ReceivedAt, null);
        row = seen.Message switch
        {
            VideoGenerationSubmitted submitted => row with { TaskId = submitted.TaskId, Since = submitted.SubmittedAt < row.Since ? submitted.SubmittedAt : row.Since },
            // Progress arriving after the ending (a late redelivery) does not reopen the job.
            VideoGenerationProgressed progressed when !row.Ended => row with
            {
                TaskId = progressed.TaskId,
                ProviderStatus = ShortStatus(progressed.Status),
                ProgressPercent = progressed.ProgressPercent ?? row.ProgressPercent,
                EtaSeconds = progressed.EtaSeconds,
            },
            VideoReady ready => row with { TaskId = ready.TaskId, State = "Succeeded", ProviderStatus = "SUCCEED", ProgressPercent = 100, EtaSeconds = null, EndedAt = seen.ReceivedAt },
            VideoFailed { Reason: VideoFailureReason.Cancelled } failed => row with { TaskId = failed.TaskId ?? row.TaskId, State = "Cancelled", EtaSeconds = null, EndedAt = seen.ReceivedAt },
            VideoFailed failed => row with { TaskId = failed.TaskId ?? row.TaskId, State = $"Failed ({failed.Reason})", EtaSeconds = null, EndedAt = seen.ReceivedAt },
            _ => row,
        };
        _rows[seen.RequestId] = row;
        if (_rows.Count > capacity)
        {
            Forget(seen.RequestId);
        }

        return row;
    }

    /// <summary>The job that ended longest ago goes first; with none ended, the one running longest (never the job just seen).</summary>
    private void Forget(Guid justSeen)
    {
        var others = _rows.Values.Where(r => r.RequestId != justSeen).ToList();
        var oldest = others.Where(r => r.Ended).MinBy(r => r.EndedAt) ?? others.MinBy(r => r.Since);
        if (oldest is not null)
        {
            _rows.Remove(oldest.RequestId);
        }
    }

    /// <summary>Running jobs first (oldest on top), then the most recently ended, at most <paramref name="limit"/> rows.</summary>
    public IReadOnlyList<JobRow> Rows(int limit) =>
    [
        .. _rows.Values.Where(r => !r.Ended).OrderBy(r => r.Since)
            .Concat(_rows.Values.Where(r => r.Ended).OrderByDescending(r => r.EndedAt))
            .Take(limit),
    ];
}
