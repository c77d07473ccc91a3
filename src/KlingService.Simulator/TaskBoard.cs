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
    private readonly HashSet<string> _prompts = [];
    private long _duplicatePrompts;
    private long _acceptedThenFailed;
    private long _unauthorized;
    private long _lengthRequired;
    private DateTimeOffset _unauthorizedUntil = time.GetUtcNow().AddSeconds(options.UnauthorizedForSeconds);
    private int _unauthorizedStatus = options.UnauthorizedStatusCode;
    private DateTimeOffset _videosUnavailableUntil = DateTimeOffset.MinValue;
    private long _videoDownloads;
    private long _videoFaults;
    private long _createsStarted;
    private long _createsAnswered;
    private readonly Dictionary<string, DateTimeOffset> _idsDeliveredAt = [];

    /// <summary>The status every provider call answers while an unauthorized window is on, else null.</summary>
    public int? UnauthorizedStatus()
    {
        lock (_gate)
        {
            return time.GetUtcNow() < _unauthorizedUntil ? _unauthorizedStatus : null;
        }
    }

    /// <summary>Opens an unauthorized window from now (0 seconds closes the current one).</summary>
    public void RefuseKeysFor(TimeSpan span, int status)
    {
        lock (_gate)
        {
            _unauthorizedUntil = time.GetUtcNow() + span;
            _unauthorizedStatus = status;
        }
    }

    /// <summary>Makes every video download answer 503 from now for the span (0 ends the current window).</summary>
    public void MakeVideosUnavailableFor(TimeSpan span)
    {
        lock (_gate)
        {
            _videosUnavailableUntil = time.GetUtcNow() + span;
        }
    }

    /// <summary>
    /// How long the task's video is still unavailable: during a window opened by <see cref="MakeVideosUnavailableFor"/>, or for
    /// <see cref="SimulatorOptions.VideoUnavailableForSeconds"/> after a known task's finish time. Null when it can be downloaded.
    /// </summary>
    public TimeSpan? VideoUnavailableFor(string taskId)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var until = _videosUnavailableUntil;
            if (options.VideoUnavailableForSeconds > 0 && _tasks.TryGetValue(taskId, out var task))
            {
                var taskUntil = task.FinishesAt.AddSeconds(options.VideoUnavailableForSeconds);
                until = taskUntil > until ? taskUntil : until;
            }

            return now < until ? until - now : null;
        }
    }

    public void CountVideoDownload() => Interlocked.Increment(ref _videoDownloads);

    public void CountVideoFault() => Interlocked.Increment(ref _videoFaults);

    public void CountUnauthorized() => Interlocked.Increment(ref _unauthorized);

    public void CountLengthRequired() => Interlocked.Increment(ref _lengthRequired);

    public void CountAcceptedThenFailed() => Interlocked.Increment(ref _acceptedThenFailed);

    public void CountCreateStarted() => Interlocked.Increment(ref _createsStarted);

    /// <summary>A create call's answer went out whole to a caller still there; <paramref name="taskId"/> when it carried a task's id.</summary>
    public void CountCreateAnswered(string? taskId)
    {
        Interlocked.Increment(ref _createsAnswered);
        if (taskId is not null)
        {
            lock (_gate)
            {
                _idsDeliveredAt[taskId] = time.GetUtcNow();
            }
        }
    }

    /// <summary>When the task's id went out to its caller in a whole answer; null while it never has.</summary>
    public DateTimeOffset? IdDeliveredAt(string taskId)
    {
        lock (_gate)
        {
            return _idsDeliveredAt.TryGetValue(taskId, out var at) ? at : null;
        }
    }

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
                prompt,
                Roll(options.CanceledRate) ? "The task was canceled by the provider (simulated cancel)." : null,
                Roll(options.DisappearRate));

            _tasks[task.TaskId] = task;
            _generating.Enqueue(task, task.FinishesAt);
            _createCalls++;
            if (!_prompts.Add(prompt))
            {
                _duplicatePrompts++;
            }

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

    /// <summary>
    /// One roll among exclusive outcomes with the given shares: the index of the outcome hit, or -1 for none.
    /// Rolls no dice when every share is 0, so seeded runs that use none of them keep their sequence.
    /// </summary>
    public int Pick(params ReadOnlySpan<double> shares)
    {
        var total = 0.0;
        foreach (var share in shares)
        {
            total += Math.Max(0, share);
        }

        if (total <= 0)
        {
            return -1;
        }

        double roll;
        lock (_gate)
        {
            roll = _dice.NextDouble();
        }

        for (var i = 0; i < shares.Length; i++)
        {
            roll -= Math.Max(0, shares[i]);
            if (roll < 0)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Every task created so far, for benchmarks that study when slots were busy.</summary>
    public IReadOnlyList<SimulatedTask> Tasks()
    {
        lock (_gate)
        {
            return [.. _tasks.Values];
        }
    }

    /// <summary>Tasks grouped by prompt: with one prompt per job, a group of two or more is a duplicate charge.</summary>
    public ILookup<string, SimulatedTask> TasksByPrompt()
    {
        lock (_gate)
        {
            return _tasks.Values.ToLookup(task => task.Prompt, StringComparer.Ordinal);
        }
    }

    public SimulatorStats Stats()
    {
        lock (_gate)
        {
            DropFinished(time.GetUtcNow());
            return new SimulatorStats(
                _createCalls, _rejectedForCap, _statusCalls, _generating.Count, _peakGenerating, Interlocked.Read(ref _throttled),
                TasksCreated: _createCalls,
                AcceptedThenFailed: Interlocked.Read(ref _acceptedThenFailed),
                DuplicatePrompts: _duplicatePrompts,
                UnauthorizedAnswers: Interlocked.Read(ref _unauthorized),
                LengthRequiredAnswers: Interlocked.Read(ref _lengthRequired),
                VideoDownloads: Interlocked.Read(ref _videoDownloads),
                VideoFaults: Interlocked.Read(ref _videoFaults),
                CreatesStarted: Interlocked.Read(ref _createsStarted),
                CreatesAnswered: Interlocked.Read(ref _createsAnswered));
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
