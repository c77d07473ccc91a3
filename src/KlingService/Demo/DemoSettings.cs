using KlingService.Contracts;

namespace KlingService.Demo;

/// <summary>What the demo was asked to generate.</summary>
public sealed record DemoSettings(string? Image, string Prompt, VideoMode Mode, int DurationSeconds);
