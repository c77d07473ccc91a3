namespace KlingService.Simulator;

/// <summary>What the simulated account has seen; served at <c>GET /_simulator/stats</c>.</summary>
/// <param name="CreateCalls">Create calls that created a task (the name predates the faults; same count as <paramref name="TasksCreated"/>).</param>
/// <param name="RejectedForConcurrency">Create calls refused with 429 because the account's slots were all busy.</param>
/// <param name="StatusCalls">Task-result calls that reached the provider.</param>
/// <param name="GeneratingNow">Tasks holding a generation slot now.</param>
/// <param name="PeakGenerating">Most tasks that held a generation slot at once.</param>
/// <param name="ThrottledInBursts">Create calls refused with 429 during a rate-limit burst.</param>
/// <param name="TasksCreated">Tasks created, and so charged, including those whose create answer then failed.</param>
/// <param name="AcceptedThenFailed">Tasks created whose create call then got a 504 page, a reset or a late answer.</param>
/// <param name="DuplicatePrompts">Tasks created with a prompt an earlier task already had: duplicate charges when every job has its own prompt.</param>
/// <param name="UnauthorizedAnswers">Calls answered 401 or 403: a wrong key, or any call during an unauthorized window.</param>
/// <param name="LengthRequiredAnswers">Create calls refused with 411 because they carried no Content-Length.</param>
/// <param name="VideoDownloads">Calls to the video download endpoint, whatever their answer.</param>
/// <param name="CreatesStarted">Create calls that reached the provider, whatever became of them.</param>
/// <param name="CreatesAnswered">Create calls whose answer (a task id or a refusal) went out whole while the caller was still connected;
/// <c>CreatesStarted - CreatesAnswered</c> calls were in flight when their caller left, or were reset or answered late on purpose.</param>
/// <param name="VideoFaults">Video downloads answered with an injected fault: 503 while unavailable, slow, truncated, not an MP4 or oversize. An expired URL's 403 is not one.</param>
public sealed record SimulatorStats(
    long CreateCalls,
    long RejectedForConcurrency,
    long StatusCalls,
    int GeneratingNow,
    int PeakGenerating,
    long ThrottledInBursts,
    long TasksCreated,
    long AcceptedThenFailed,
    long DuplicatePrompts,
    long UnauthorizedAnswers,
    long LengthRequiredAnswers,
    long VideoDownloads,
    long VideoFaults,
    long CreatesStarted,
    long CreatesAnswered);
