using KlingService.Contracts;

namespace KlingService.Generation;

/// <summary>A request that has just been given a slot: its task is to be created now, under <paramref name="Claim"/>.</summary>
/// <param name="Command">The command as it was admitted.</param>
/// <param name="FailedAttempts">Earlier create attempts that failed without creating anything.</param>
/// <param name="TraceParent">The job's W3C trace context, captured when the command was admitted.</param>
/// <param name="AdmittedAt">When the command entered the backlog.</param>
/// <param name="Claim">The token that fences every write about this attempt: a write under a lost claim changes nothing.</param>
/// <param name="Abandoned">
/// An earlier claim lapsed without an outcome (its holder died or lost the database mid-call), so a
/// task may have been created for this request already.
/// </param>
/// <param name="Cancelled">The client cancelled it while that earlier claim was open: it is only to be ended.</param>
public sealed record PendingCreate(
    GenerateVideo Command, int FailedAttempts, string? TraceParent, DateTimeOffset AdmittedAt, Guid Claim, bool Abandoned = false, bool Cancelled = false);
