namespace KlingService.Simulator;

/// <summary>One task the simulator created, with its whole future decided at creation.</summary>
public sealed record SimulatedTask(
    string TaskId,
    DateTimeOffset CreatedAt,
    DateTimeOffset StartsAt,
    DateTimeOffset FinishesAt,
    string? FailureReason,
    string Prompt,
    string? CancelReason = null,
    bool Disappears = false)
{
    /// <summary>The status at a time; a cancel decided at creation wins over a failure.</summary>
    public string StatusAt(DateTimeOffset now) =>
        now < StartsAt ? TaskStatuses.Queued
        : now < FinishesAt ? TaskStatuses.Processing
        : CancelReason is not null ? TaskStatuses.Canceled
        : FailureReason is null ? TaskStatuses.Succeed
        : TaskStatuses.Failed;

    /// <summary>The reason shown with a failed or canceled status; empty otherwise.</summary>
    public string ReasonAt(DateTimeOffset now) => StatusAt(now) switch
    {
        TaskStatuses.Canceled => CancelReason!,
        TaskStatuses.Failed => FailureReason!,
        _ => "",
    };

    /// <summary>False once a task the provider loses has left the queue (see <see cref="SimulatorOptions.DisappearRate"/>).</summary>
    public bool IsKnownAt(DateTimeOffset now) => !Disappears || now < StartsAt;

    public bool IsGeneratingAt(DateTimeOffset now) => now < FinishesAt;
}
