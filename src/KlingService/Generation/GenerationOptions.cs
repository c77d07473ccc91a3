using System.ComponentModel.DataAnnotations;

namespace KlingService.Generation;

/// <summary>How jobs are created, tracked and given up on. Bound from the <c>Generation</c> section.</summary>
public sealed class GenerationOptions
{
    public const string SectionName = "Generation";

    /// <summary>When to look at a new task for the first time, before the provider has given any eta.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan FirstCheckAfter { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Never poll a task more often than this.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan MinCheckInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Never leave a task unchecked for longer than this.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan MaxCheckInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Growth of the interval between checks while checks fail.</summary>
    [Range(1.0, 10.0)]
    public double CheckBackoffFactor { get; set; } = 1.5;

    /// <summary>Checks are aimed this long after the provider's eta, which is rounded to whole seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan EtaSlack { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>An eta up to this long is waited in full (plus <see cref="EtaSlack"/>); a longer one only in part.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ShortEta { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Share of a long eta to wait before looking again (the estimate may be late; this keeps the lag small).</summary>
    [Range(0.1, 1.0)]
    public double EtaTrust { get; set; } = 0.7;

    /// <summary>Interval between checks while the provider gives no eta (with a warm model: where finishes are as likely as at the median).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan NoEtaCheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How many recent finished jobs the timing model reflects: each new job makes the older ones
    /// weigh 1 - 1/this as much, so a drift in the provider's timing is followed within about this many jobs.
    /// </summary>
    [Range(10, 1_000_000)]
    public int TimingMemory { get; set; } = 200;

    /// <summary>Finished jobs of a (mode, duration) the model needs before the policy uses it; until then checks are planned as if nothing were learned.</summary>
    [Range(1, 100_000)]
    public int TimingWarmAfter { get; set; } = 20;

    /// <summary>How long an instance reuses its read of the shared timing model (PostgreSQL) before reading it again.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan TimingRefresh { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>With a warm model, the first check comes when this share of jobs has finished: early enough to learn the eta of nearly all.</summary>
    [Range(0.001, 0.5)]
    public double FirstCheckShare { get; set; } = 0.02;

    /// <summary>With a warm model, the chance a check aimed at the corrected eta finds the task done (a miss costs one more call, and teaches the model).</summary>
    [Range(0.5, 0.999)]
    public double AimConfidence { get; set; } = 0.9;

    /// <summary>With a warm model, a check goes straight for the finish only when the learned spread lets it see the finish within this; otherwise it looks earlier for a fresher eta.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan TargetLag { get; set; } = TimeSpan.FromSeconds(2.5);

    /// <summary>With a warm model, the share of jobs whose first aimed check looks 10 % early on purpose, so that a provider whose tasks got faster is noticed (each costs about one call).</summary>
    [Range(0.0, 1.0)]
    public double ProbeShare { get; set; } = 0.1;

    /// <summary>
    /// With a warm model, the longest a check aimed by what is learned (the first check, or one aimed at
    /// an eta) may wait. It may exceed <see cref="MaxCheckInterval"/>: a learned eta is worth trusting,
    /// and looking in between only costs calls.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan MaxAimedCheckInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A job not finished this long after its task was created ends as TimedOut.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan JobDeadline { get; set; } = TimeSpan.FromMinutes(60);

    /// <summary>
    /// Create calls that may fail in a way that proves nothing was created (no connection, 503, the
    /// API's own refusal) before the job fails as ProviderUnavailable. A 429 never counts.
    /// </summary>
    [Range(1, 100)]
    public int CreateAttemptLimit { get; set; } = 10;

    /// <summary>Wait after the first failed create call; later waits double, up to <see cref="CreateRetryMaxInterval"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan CreateRetryMinInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest wait between two create attempts (a 429's Retry-After may ask for longer, and gets it).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "06:00:00")]
    public TimeSpan CreateRetryMaxInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Create calls one instance makes at once (the account's cap bounds them too).</summary>
    [Range(1, 1000)]
    public int CreateConcurrency { get; set; } = 16;

    /// <summary>
    /// Repeat a create call whose outcome is unknown (sent, then a timeout, a reset, a 502/504 or an
    /// unreadable answer). Off by default: such a call may have created and charged a task, and a
    /// repeat can buy the same video twice; the job ends as CreateOutcomeUnknown instead. On, a job
    /// is more likely to get its video through a flaky provider, at the price of possible duplicate
    /// charges (each one logged with both task ids and counted).
    /// </summary>
    public bool RetryAmbiguousCreates { get; set; }

    /// <summary>The longest pause a 429's Retry-After may impose; a provider asking for a day does not freeze the launcher.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// While the provider refuses the key (401/403), launching pauses and is probed again with growing
    /// pauses; only after this long are the waiting jobs failed as Unauthorized.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan UnauthorizedGrace { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The longest a request waits for one of the account's slots before it ends as StartByPassed with nothing
    /// created; unset, it waits as long as it takes. A request's own StartBy, when sooner, wins.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan? MaxWait { get; set; }

    /// <summary>
    /// Status-check messages one instance handles at once. Each holds a database connection (two,
    /// briefly, when a job ends) across its Kling call, so this stays well below the connection pool
    /// (checked at start against the connection string's Maximum Pool Size).
    /// </summary>
    [Range(1, 1000)]
    public int SagaConcurrency { get; set; } = 20;
}
