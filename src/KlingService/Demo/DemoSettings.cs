using KlingService.Contracts;

namespace KlingService.Demo;

/// <summary>What the demo was asked to generate, and whether to list every span of its trace (<c>--trace</c>).</summary>
public sealed record DemoSettings(string? Image, string Prompt, VideoMode Mode, int DurationSeconds, bool Trace = false);
