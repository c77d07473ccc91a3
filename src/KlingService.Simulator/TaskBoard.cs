namespace KlingService.Simulator;

/// <summary>The simulator's account: its tasks, its generation slots and what it has counted.</summary>
public sealed class TaskBoard(SimulatorOptions options, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SimulatedTask> _tasks = [];
    // Finish times of tasks still generating, so the cap check does not scan every task ever created.
    private readonly PriorityQueue<SimulatedTask, DateTimeOffset> _generating = new();
    private readonly Random _dice = options.Seed is { } seed ? new Random(seed) : new Random();
    private long _createCalls;
    private long _rejectedForCap;
    private long _statusCalls;
    private int _peakGenerating;
    private long _throttled;
    private readonly DateTimeOffset _openedAt = time.GetUtcNow();

    /// <summary>True while a 429 burst is on (see <see cref="SimulatorOptions.ThrottleBurstEverySeconds"/>); counts the refusal.</summary>
    public bool Throttles()
    {
        if (options.ThrottleBurstEverySeconds <= 0)
        {
            return false;
        }

        var intoPeriod = (time.GetUtcNow() - _openedAt).TotalSeconds % options.ThrottleBurstEverySeconds;
        if (intoPeriod >= options.ThrottleBurstSeconds)
        {
            return false;
        }

        Interlocked.Increment(ref _throttled);
        return true;
    }

    /// <summary>Creates a task, or returns null when the account's slots are all busy.</summary>
    public SimulatedTask? TryCreate(string prompt, bool professional, bool longClip)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            DropFinished(now);
            if (options.MaxConcurrentTasks > 0 && _generating.Count >= options.MaxConcurrentTasks)
            {
                _rejectedForCap++;
                return null;
            }

            var processing = options.ProcessingSeconds
                * (professional ? options.SlowerFactor : 1)
                * (longClip ? options.SlowerFactor : 1);
            var starts = now + Spread(Roll(options.SlowQueueRate) ? options.SlowQueueSeconds : options.QueueSeconds);
            var finishes = starts + Spread(processing);
            var fails = prompt.Contains("[fail]", StringComparison.OrdinalIgnoreCase) || Roll(options.FailureRate);
            var task = new SimulatedTask(
                $"sim-{Guid.NewGuid():N}", now, starts, finishes,
                fails ? "The provider could not generate this video (simulated failure)." : null,
                prompt);

            _tasks[task.TaskId] = task;
            _generating.Enqueue(task, task.FinishesAt);
            _createCalls++;
            _peakGenerating = Math.Max(_peakGenerating, _generating.Count);
            return task;
        }
    }

    public SimulatedTask? Find(string taskId)
    {
        lock (_gate)
        {
            _statusCalls++;
            return _tasks.GetValueOrDefault(taskId);
        }
    }

    public bool Roll(double probability)
    {
        if (probability <= 0)
        {
            return false;
        }

        lock (_gate)
        {
            return _dice.NextDouble() < probability;
        }
    }

    /// <summary>Every task created so far, for benchmarks that study when slots were busy.</summary>
    public IReadOnlyList<SimulatedTask> Tasks()
    {
        lock (_gate)
        {
            return [.. _tasks.Values];
        }
    }

    public SimulatorStats Stats()
    {
        lock (_gate)
        {
            DropFinished(time.GetUtcNow());
            return new SimulatorStats(_createCalls, _rejectedForCap, _statusCalls, _generating.Count, _peakGenerating, Interlocked.Read(ref _throttled));
        }
    }

    private TimeSpan Spread(double seconds)
    {
        var factor = options.Jitter > 0 ? 1 + ((_dice.NextDouble() * 2) - 1) * options.Jitter : 1;
        return TimeSpan.FromSeconds(Math.Max(0, seconds * factor));
    }

    private void DropFinished(DateTimeOffset now)
    {
        while (_generating.TryPeek(out _, out var finishesAt) && finishesAt <= now)
        {
            _generating.Dequeue();
        }
    }
}
