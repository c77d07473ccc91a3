namespace KlingService.Outbox;

/// <summary>The service's <see cref="ICommitObserver"/>: nothing to do.</summary>
public sealed class NoCommitObserver : ICommitObserver
{
    public static readonly NoCommitObserver Instance = new();

    public void SagaFinalCommitted()
    {
    }

    public void TaskRecorded()
    {
    }
}
