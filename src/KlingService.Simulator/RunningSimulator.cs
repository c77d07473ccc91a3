namespace KlingService.Simulator;

/// <summary>A simulator started in this process.</summary>
public sealed class RunningSimulator(WebApplication app, Uri baseAddress, TaskBoard board, SimulatorOptions options, ConnectionFront? front = null)
    : IAsyncDisposable
{
    public Uri BaseAddress { get; } = baseAddress;

    public TaskBoard Board { get; } = board;

    public SimulatorOptions Options { get; } = options;

    public async ValueTask DisposeAsync()
    {
        if (front is not null)
        {
            await front.DisposeAsync();
        }

        await app.StopAsync();
        await app.DisposeAsync();
    }
}
