using KlingService.Contracts;

namespace KlingService.Cli;

/// <summary>One of the job events seen on the bus (<see cref="Name"/> is the contract's message name, e.g. VideoReady), as it arrived.</summary>
public sealed record JobEvent(string Name, Guid RequestId, object Message, DateTimeOffset ReceivedAt)
{
    public bool IsEnding => Message is VideoReady or VideoFailed;
}
