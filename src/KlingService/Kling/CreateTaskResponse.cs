using System.Text.Json.Serialization;

namespace KlingService.Kling;

public sealed record CreateTaskResponse([property: JsonPropertyName("task_id")] string TaskId);
