using KlingService.Contracts;

namespace KlingService.Generation;

/// <summary>A request that has just been given a slot: its task is to be created now.</summary>
/// <param name="Command">The command as it was admitted.</param>
/// <param name="FailedAttempts">Earlier create attempts that failed transiently.</param>
/// <param name="TraceParent">The job's W3C trace context, captured when the command was admitted.</param>
/// <param name="AdmittedAt">When the command entered the backlog.</param>
public sealed record PendingCreate(GenerateVideo Command, int FailedAttempts, string? TraceParent, DateTimeOffset AdmittedAt);
