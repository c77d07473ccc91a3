namespace KlingService.Simulator;

/// <summary>What the simulated account has seen; served at <c>GET /_simulator/stats</c>.</summary>
public sealed record SimulatorStats(
    long CreateCalls,
    long RejectedForConcurrency,
    long StatusCalls,
    int GeneratingNow,
    int PeakGenerating,
    long ThrottledInBursts);
