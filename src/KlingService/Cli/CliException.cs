namespace KlingService.Cli;

/// <summary>Bad input or an unreachable broker: the command stops with this one line on stderr and exit code 2.</summary>
public sealed class CliException(string message) : Exception(message);
