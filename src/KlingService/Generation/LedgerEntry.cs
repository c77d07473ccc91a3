namespace KlingService.Generation;

/// <summary>What the ledger knows of one request.</summary>
/// <param name="TaskId">Its task, once created.</param>
/// <param name="Ended">True once the request's job ended (ready, failed or given up): it never starts again.</param>
/// <param name="Cancelled">True once the client cancelled it: its job, if any, is followed without telling anyone.</param>
public sealed record LedgerEntry(string? TaskId, bool Ended, bool Cancelled = false);
