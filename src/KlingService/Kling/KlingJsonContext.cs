using System.Text.Json.Serialization;

namespace KlingService.Kling;

/// <summary>Source-generated JSON for the provider's bodies; Refit's generated client uses it without reflection.</summary>
[JsonSerializable(typeof(CreateTaskRequest))]
[JsonSerializable(typeof(CreateTaskResponse))]
[JsonSerializable(typeof(TaskResultResponse))]
public sealed partial class KlingJsonContext : JsonSerializerContext;
