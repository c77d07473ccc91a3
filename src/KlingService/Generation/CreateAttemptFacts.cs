namespace KlingService.Generation;

/// <summary>What is known of a create attempt when its outcome is decided (<see cref="CreateOutcome.AfterCall"/>).</summary>
/// <param name="FailedAttempts">Earlier attempts on the request that failed without creating anything.</param>
/// <param name="Waited">How long the request has been in the backlog.</param>
/// <param name="RefusedFor">How long the key has been refused with no other answer in between; zero while it is not refused.</param>
/// <param name="BackoffDraw">A uniform draw in [0, 1) that spreads a retry's pause (<see cref="Backoff.Delay(int, TimeSpan, TimeSpan, double, double)"/>).</param>
public sealed record CreateAttemptFacts(int FailedAttempts, TimeSpan Waited, TimeSpan RefusedFor, double BackoffDraw);
