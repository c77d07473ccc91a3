namespace KlingService.Outbox;

/// <summary>
/// Wakes the dispatcher as soon as a transaction has committed messages for it, so a due-now row
/// is sent at once instead of at the next poll. Pokes made while the dispatcher is busy fold into one.
/// </summary>
public sealed class OutboxSignal
{
    private readonly SemaphoreSlim _poked = new(0, 1);

    public void Poke()
    {
        try
        {
            _poked.Release();
        }
        catch (SemaphoreFullException)
        {
            // Poked already: the dispatcher looks once more, which covers this one too.
        }
    }

    /// <summary>Waits for a poke or the timeout, whichever comes first.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _poked.WaitAsync(timeout, cancellationToken);
}
