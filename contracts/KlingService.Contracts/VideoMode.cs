namespace KlingService.Contracts;

/// <summary>Generation quality; travels on the wire by name ("Standard", "Professional").</summary>
public enum VideoMode
{
    Standard,
    Professional,
}
