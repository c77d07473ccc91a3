using System.Text.Json.Serialization;

namespace KlingService.Kling;

public sealed record CreateTaskRequest(
    [property: JsonPropertyName("image")] string Image,
    [property: JsonPropertyName("prompt")] string Prompt,
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("duration")] string Duration,
    [property: JsonPropertyName("guidance_scale"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? GuidanceScale,
    [property: JsonPropertyName("negative_prompt"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? NegativePrompt);
