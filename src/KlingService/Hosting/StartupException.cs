namespace KlingService.Hosting;

/// <summary>A configuration or environment the service cannot start with; its message is the one line an operator reads.</summary>
public sealed class StartupException(string message) : Exception(message);
