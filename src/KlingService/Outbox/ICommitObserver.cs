namespace KlingService.Outbox;

/// <summary>
/// Told right after each commit that leaves messages in the outbox, before the dispatcher is woken: the moments a crash
/// must not lose a message. The service registers <see cref="NoCommitObserver"/>; the crash tests load one into the
/// service's process that kills it there.
/// </summary>
public interface ICommitObserver
{
    /// <summary>A saga's final commit (the one that deleted its ended job, with its terminal event) is done.</summary>
    void SagaFinalCommitted();

    /// <summary>A created task's record, with its announcement, is committed.</summary>
    void TaskRecorded();
}
