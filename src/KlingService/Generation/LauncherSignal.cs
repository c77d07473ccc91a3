namespace KlingService.Generation;

/// <summary>
/// Wakes the <see cref="TaskLauncher"/> the moment a job may start: a command was admitted, a slot
/// was freed, a create call finished. Without it a freed slot would wait for the next poll.
/// </summary>
public sealed class LauncherSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the first pulse after it was read; read it before looking for work, so no pulse falls in between.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void Pulse() =>
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
