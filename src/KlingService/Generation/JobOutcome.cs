using KlingService.Contracts;

namespace KlingService.Generation;

/// <summary>The terminal event a request was answered with, kept with its record for the status query and for replay.</summary>
public sealed record JobOutcome(VideoReady? Ready, VideoFailed? Failed)
{
    public static JobOutcome Of(VideoReady ready) => new(ready, null);

    public static JobOutcome Of(VideoFailed failed) => new(null, failed);

    /// <summary>The event itself, to publish again.</summary>
    public object Event => (object?)Ready ?? Failed ?? throw new InvalidOperationException("An outcome holds one event.");
}
