using Refit;

namespace KlingService.Kling;

/// <summary>
/// The provider's two endpoints. Non-success answers surface as <see cref="KlingApiException"/>
/// (raised by <see cref="KlingErrorHandler"/>), so callers classify errors without touching HTTP types.
/// </summary>
public interface IKlingApi
{
    // Buffered: the documented call carries a Content-Length; a chunked body is refused (411) by
    // gateways that require a length and read as empty by strict servers.
    [Post("/v3/async/kling-v2.1-i2v")]
    Task<CreateTaskResponse> CreateTaskAsync([Body(buffered: true)] CreateTaskRequest request, CancellationToken cancellationToken);

    [Get("/v3/async/task-result")]
    Task<TaskResultResponse> GetTaskResultAsync([AliasAs("task_id")] string taskId, CancellationToken cancellationToken);
}
