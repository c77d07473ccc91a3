namespace KlingService.Contracts;

/// <summary>Generation quality; travels on the wire by name ("Standard", "Professional").</summary>
public enum VideoMode
{
    /// <summary>Fast and cheaper, 720p.</summary>
    Standard,

    /// <summary>Slower and costlier, 1080p.</summary>
    Professional,
}
