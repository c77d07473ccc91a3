using System.Text.Json.Serialization;

namespace KlingService.Simulator;

/// <summary>The create call's body as the provider reads it: loosely typed, so bad input is answered with 400, not a crash.</summary>
public sealed record CreateTaskBody(
    [property: JsonPropertyName("image")] string? Image,
    [property: JsonPropertyName("prompt")] string? Prompt,
    [property: JsonPropertyName("mode")] string? Mode,
    [property: JsonPropertyName("duration")] string? Duration,
    [property: JsonPropertyName("guidance_scale")] double? GuidanceScale,
    [property: JsonPropertyName("negative_prompt")] string? NegativePrompt);
