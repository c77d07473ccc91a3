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

    /// <summary>
    /// Share of create calls whose task is created and charged, then answered 504 with a proxy's HTML
    /// page instead of the provider's JSON: the caller cannot tell whether a task exists.
    /// The accept-then-fail shares and <see cref="SlowBodyRate"/> are exclusive outcomes of one roll.
    /// </summary>
    public double AcceptThen504Rate { get; set; }

    /// <summary>Share of create calls whose task is created, then the connection is aborted without an answer.</summary>
    public double AcceptThenResetRate { get; set; }

    /// <summary>
    /// Share of create calls whose task is created, then the 200 answer is held for
    /// <see cref="LateAnswerSeconds"/>, past the caller's timeout; a caller that hangs up gets nothing.
    /// </summary>
    public double AcceptThenLateRate { get; set; }

    public double LateAnswerSeconds { get; set; } = 45;

    /// <summary>
    /// Share of create calls whose task is created and whose 200 headers go out at once, while the JSON
    /// body trickles in pieces and completes only after <see cref="SlowBodySeconds"/>: a timeout must cover the body too.
    /// </summary>
    public double SlowBodyRate { get; set; }

    public double SlowBodySeconds { get; set; } = 45;

    /// <summary>Share of tasks the provider cancels: they end TASK_STATUS_CANCELED with a reason at their finish time, whatever else was rolled.</summary>
    public double CanceledRate { get; set; }

    /// <summary>
    /// Share of tasks the provider loses: once their queue time is over (at once when <see cref="QueueSeconds"/> is 0)
    /// every status check answers 404 "task not found". They still hold a generation slot until their finish time.
    /// </summary>
    public double DisappearRate { get; set; }

    /// <summary>
    /// Seconds from the simulator's start during which every create and status call answers
    /// <see cref="UnauthorizedStatusCode"/>, as when a key is rotated or an account suspended for a while.
    /// <c>POST /_simulator/unauthorized?seconds=N&amp;status=403</c> opens such a window at run time.
    /// </summary>
    public double UnauthorizedForSeconds { get; set; }

    /// <summary>The answer during an unauthorized window: 401 or 403.</summary>
    public int UnauthorizedStatusCode { get; set; } = StatusCodes.Status401Unauthorized;

    /// <summary>
    /// Refuse a create call without Content-Length (a chunked body) with 411, as strict gateways do. The documented
    /// way to call the API (curl with a JSON body) always sends the length, so a client must not rely on chunking.
    /// </summary>
    public bool RequireContentLength { get; set; } = true;

    /// <summary>Seconds a task is reported as its <c>eta</c> beyond the truth (negative: optimistic).</summary>
    public double EtaBiasSeconds { get; set; }

    /// <summary>How long the video URL stays valid.</summary>
    public int VideoUrlTtlSeconds { get; set; } = 3600;

    /// <summary>
    /// Share of video downloads whose 200 headers (with the full Content-Length) go out at once while the body
    /// trickles in pieces and completes only after <see cref="VideoSlowSeconds"/>: a download timeout must cover the body.
    /// <see cref="VideoSlowRate"/>, <see cref="VideoTruncateRate"/> and <see cref="VideoNotMp4Rate"/> are exclusive outcomes of one roll.
    /// </summary>
    public double VideoSlowRate { get; set; }

    public double VideoSlowSeconds { get; set; } = 45;

    /// <summary>
    /// Share of video downloads that declare the full Content-Length, send about half the bytes, then abort the
    /// connection: the client must see an error or a short body, never a shorter file taken for the whole one.
    /// </summary>
    public double VideoTruncateRate { get; set; }

    /// <summary>
    /// Share of video downloads answered 200 with an HTML page (<c>text/html</c>) instead of the video, as a CDN's
    /// login or error page would be: only the content type and the missing <c>ftyp</c> box tell it apart.
    /// </summary>
    public double VideoNotMp4Rate { get; set; }

    /// <summary>
    /// When above 0, every video download is a valid MP4 of exactly this many bytes: the task's video (starting with
    /// its <c>ftyp</c> box) followed by a <c>free</c> box padding it to this size, streamed in chunks without being held
    /// in memory. A size too small to hold the task's video and an empty <c>free</c> box serves the video as it is.
    /// Slow and truncated deliveries apply to the padded video too.
    /// </summary>
    public long VideoOversizeBytes { get; set; }

    /// <summary>
    /// Seconds after a task's video becomes available (its finish time) during which downloading it answers 503 with
    /// a Retry-After, as a CDN that has not caught up yet: a client must retry. 0 = available at once.
    /// <c>POST /_simulator/videos/unavailable?seconds=N</c> makes every download answer 503 for the next N seconds.
    /// </summary>
    public double VideoUnavailableForSeconds { get; set; }

    /// <summary>
    /// How connections behave. Other than <see cref="ConnectionMode.KeepAlive"/>, a front on the simulator's address
    /// relays each request whole to the simulator and its answer whole back, so a slow body arrives as a late answer.
    /// </summary>
    public ConnectionMode Connections { get; set; } = ConnectionMode.KeepAlive;

    /// <summary>With <see cref="ConnectionMode.IdleClose"/>: how long a keep-alive connection may sit idle before the server closes it.</summary>
    public int IdleCloseMilliseconds { get; set; } = 30;

    /// <summary>With <see cref="ConnectionMode.IdleClose"/>: how long the close takes to reach the client; a request sent in that window is lost.</summary>
    public int CloseInFlightMilliseconds { get; set; } = 15;

    /// <summary>Seed for the fault and jitter dice; null picks one.</summary>
    public int? Seed { get; set; }
}
