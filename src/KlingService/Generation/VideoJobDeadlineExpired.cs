namespace KlingService.Generation;

/// <summary>Scheduled by the saga at submission: the job has had all the time it is given.</summary>
public sealed record VideoJobDeadlineExpired(Guid CorrelationId, string TaskId);
