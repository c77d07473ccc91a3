using System.Text.Json.Serialization;

namespace KlingService.Kling;

public sealed record KlingVideo(
    [property: JsonPropertyName("video_url")] string VideoUrl,
    [property: JsonPropertyName("video_url_ttl")] string? VideoUrlTtl,
    [property: JsonPropertyName("video_type")] string? VideoType);
