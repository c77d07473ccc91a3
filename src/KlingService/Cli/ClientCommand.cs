using System.CommandLine;

namespace KlingService.Cli;

/// <summary>A command that is a client of a running deployment (not the service itself), so it is invoked as one.</summary>
public sealed class ClientCommand(string name, string description) : Command(name, description);
