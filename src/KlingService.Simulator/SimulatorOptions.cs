namespace KlingService.Simulator;

/// <summary>How the simulated provider behaves. Bound from the <c>Simulator</c> section.</summary>
public sealed class SimulatorOptions
{
    public const string SectionName = "Simulator";

    /// <summary>The only key the simulator accepts as <c>Authorization: Bearer</c>.</summary>
    public string ApiKey { get; set; } = "sim-key";

    /// <summary>Time a task waits in the provider's queue before it starts processing.</summary>
    public double QueueSeconds { get; set; } = 5;

    /// <summary>Processing time of a Standard 5-second clip; Professional and 10-second clips take longer.</summary>
    public double ProcessingSeconds { get; set; } = 30;

    /// <summary>Multiplier on processing time for Professional mode and again for 10-second clips.</summary>
    public double SlowerFactor { get; set; } = 2;

    /// <summary>Random spread of durations, as a fraction (0.2 = ±20 %).</summary>
    public double Jitter { get; set; }

    /// <summary>Share of tasks that end TASK_STATUS_FAILED. Prompts containing <c>[fail]</c> always fail.</summary>
    public double FailureRate { get; set; }

    /// <summary>The account's cap on tasks generating at once; past it the create call answers 429. 0 = no cap.</summary>
    public int MaxConcurrentTasks { get; set; }

    /// <summary>
    /// 429 bursts: every this many seconds (0 = never) the account refuses every create call for
    /// <see cref="ThrottleBurstSeconds"/>, as a provider under rate limiting does, whatever the cap.
    /// </summary>
    public double ThrottleBurstEverySeconds { get; set; }

    public double ThrottleBurstSeconds { get; set; } = 2;

    /// <summary>The Retry-After a burst's 429 carries.</summary>
    public int ThrottleRetryAfterSeconds { get; set; } = 1;

    /// <summary>Slow provider queues: this share of tasks waits <see cref="SlowQueueSeconds"/> queued instead of <see cref="QueueSeconds"/>.</summary>
    public double SlowQueueRate { get; set; }

    public double SlowQueueSeconds { get; set; } = 120;

    /// <summary>Share of requests answered with a 5xx.</summary>
    public double ServerErrorRate { get; set; }

    /// <summary>Share of requests that hang for <see cref="HangSeconds"/> before answering 504.</summary>
    public double HangRate { get; set; }

    public double HangSeconds { get; set; } = 60;

    /// <summary>Seconds a task is reported as its <c>eta</c> beyond the truth (negative: optimistic).</summary>
    public double EtaBiasSeconds { get; set; }

    /// <summary>How long the video URL stays valid.</summary>
    public int VideoUrlTtlSeconds { get; set; } = 3600;

    /// <summary>Seed for the fault and jitter dice; null picks one.</summary>
    public int? Seed { get; set; }
}
