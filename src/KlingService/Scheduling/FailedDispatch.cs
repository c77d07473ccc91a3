namespace KlingService.Scheduling;

/// <summary>A row that was not sent: its attempts so far, the error, when it is tried again, or that it was set aside.</summary>
public sealed record FailedDispatch(Guid TokenId, string MessageType, int Attempts, string Error, TimeSpan RetryIn, bool SetAside);
