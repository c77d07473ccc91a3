using System.Text.Json.Serialization;

namespace KlingService.Kling;

public sealed record KlingTask(
    [property: JsonPropertyName("task_id")] string TaskId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("reason")] string? Reason = null,
    [property: JsonPropertyName("eta")] int? Eta = null,
    [property: JsonPropertyName("progress_percent")] int? ProgressPercent = null);
