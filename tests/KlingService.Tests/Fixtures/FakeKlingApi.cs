using System.Collections.Concurrent;
using KlingService.Kling;

namespace KlingService.Tests.Fixtures;

/// <summary>A scripted provider at the <see cref="IKlingApi"/> seam, counting every call.</summary>
public sealed class FakeKlingApi : IKlingApi
{
    private readonly ConcurrentQueue<CreateTaskRequest> _creates = new();
    private int _statusCalls;
    private int _createAttempts;

    /// <summary>Answers the n-th (1-based) create attempt; by default task ids task-1, task-2, ...</summary>
    public Func<CreateTaskRequest, int, Task<CreateTaskResponse>> OnCreate { get; set; } =
        (_, attempt) => Task.FromResult(new CreateTaskResponse($"task-{attempt}"));

    /// <summary>Answers the n-th (1-based) status call for a task; by default it is still processing.</summary>
    public Func<string, int, TaskResultResponse> OnStatus { get; set; } = (taskId, _) => Processing(taskId, 10, 30);

    /// <summary>Create calls that returned a task: each one would have cost money.</summary>
    public IReadOnlyCollection<CreateTaskRequest> CreatedTasks => _creates;

    public int CreateAttempts => Volatile.Read(ref _createAttempts);

    public int StatusCalls => Volatile.Read(ref _statusCalls);

    public async Task<CreateTaskResponse> CreateTaskAsync(CreateTaskRequest request, CancellationToken cancellationToken)
    {
        var response = await OnCreate(request, Interlocked.Increment(ref _createAttempts));
        _creates.Enqueue(request);
        return response;
    }

    public Task<TaskResultResponse> GetTaskResultAsync(string taskId, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult(OnStatus(taskId, Interlocked.Increment(ref _statusCalls)));
        }
        catch (Exception e)
        {
            return Task.FromException<TaskResultResponse>(e);
        }
    }

    /// <summary>Answers status calls from a script, one entry per call, repeating the last.</summary>
    public void ScriptStatuses(params Func<string, TaskResultResponse>[] answers) =>
        OnStatus = (taskId, call) => answers[Math.Min(call, answers.Length) - 1](taskId);

    public static TaskResultResponse Queued(string taskId) =>
        new(new KlingTask(taskId, KlingTaskStatus.Queued, Eta: null, ProgressPercent: 0), []);

    public static TaskResultResponse Processing(string taskId, int progress, int? eta) =>
        new(new KlingTask(taskId, KlingTaskStatus.Processing, Eta: eta, ProgressPercent: progress), []);

    public static TaskResultResponse Succeeded(string taskId, string url = "https://cdn.example/video.mp4", string ttl = "3600") =>
        new(new KlingTask(taskId, KlingTaskStatus.Succeed, ProgressPercent: 100), [new KlingVideo(url, ttl, "mp4")]);

    public static TaskResultResponse Failed(string taskId, string reason) =>
        new(new KlingTask(taskId, KlingTaskStatus.Failed, Reason: reason), []);

    public static TaskResultResponse WithStatus(string taskId, string status) =>
        new(new KlingTask(taskId, status), []);
}
