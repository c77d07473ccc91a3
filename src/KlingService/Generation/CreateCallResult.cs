namespace KlingService.Generation;

/// <summary>What one create call came back with: the created task's id, or the failure.</summary>
public sealed record CreateCallResult
{
    private CreateCallResult(string? taskId, CreateFailure? failure)
    {
        TaskId = taskId;
        Failure = failure;
    }

    /// <summary>The created task; null when the call failed.</summary>
    public string? TaskId { get; }

    /// <summary>Why the call failed; null when it created a task.</summary>
    public CreateFailure? Failure { get; }

    public static CreateCallResult Created(string taskId) => new(taskId, null);

    public static CreateCallResult Failed(CreateFailure failure) => new(null, failure);
}
