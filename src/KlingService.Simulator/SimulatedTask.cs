namespace KlingService.Simulator;

/// <summary>One task the simulator created, with its whole future decided at creation.</summary>
public sealed record SimulatedTask(
    string TaskId,
    DateTimeOffset CreatedAt,
    DateTimeOffset StartsAt,
    DateTimeOffset FinishesAt,
    string? FailureReason,
    string Prompt)
{
    public string StatusAt(DateTimeOffset now) =>
        now < StartsAt ? TaskStatuses.Queued
        : now < FinishesAt ? TaskStatuses.Processing
        : FailureReason is null ? TaskStatuses.Succeed
        : TaskStatuses.Failed;

    public bool IsGeneratingAt(DateTimeOffset now) => now < FinishesAt;
}
