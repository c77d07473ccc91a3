using System.Text.Json.Serialization;

namespace KlingService.Kling;

/// <summary>The Get Task Result answer; <c>extra</c> is debug data the service has no use for.</summary>
public sealed record TaskResultResponse(
    [property: JsonPropertyName("task")] KlingTask Task,
    [property: JsonPropertyName("videos")] IReadOnlyList<KlingVideo>? Videos);
