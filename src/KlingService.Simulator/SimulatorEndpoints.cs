using System.Text.Json;

namespace KlingService.Simulator;

/// <summary>The two provider endpoints, the video download and a stats page for tests and benchmarks.</summary>
public static class SimulatorEndpoints
{
    public const string CreatePath = "/v3/async/kling-v2.1-i2v";
    public const string ResultPath = "/v3/async/task-result";
    public const string StatsPath = "/_simulator/stats";

    public static void MapSimulator(this WebApplication app)
    {
        app.MapPost(CreatePath, CreateTask);
        app.MapGet(ResultPath, GetTaskResult);
        app.MapGet("/videos/{taskId}.mp4", GetVideo);
        app.MapGet(StatsPath, (TaskBoard board) => Results.Ok(board.Stats()));
    }

    private static async Task<IResult> CreateTask(HttpRequest request, TaskBoard board, SimulatorOptions options)
    {
        if (board.Throttles())
        {
            return ProviderError(StatusCodes.Status429TooManyRequests, "too many requests", retryAfterSeconds: options.ThrottleRetryAfterSeconds);
        }

        CreateTaskBody? body;
        try
        {
            body = await request.ReadFromJsonAsync<CreateTaskBody>(request.HttpContext.RequestAborted);
        }
        catch (JsonException)
        {
            return ProviderError(StatusCodes.Status400BadRequest, "request body is not valid JSON");
        }

        if (body is null)
        {
            return ProviderError(StatusCodes.Status400BadRequest, "request body is required");
        }

        if (ProviderValidation.FindProblem(body) is { } problem)
        {
            return ProviderError(StatusCodes.Status400BadRequest, problem);
        }

        var task = board.TryCreate(body.Prompt!, body.Mode == "Professional", body.Duration == "10");
        return task is null
            ? ProviderError(StatusCodes.Status429TooManyRequests, "concurrent task limit reached for this account", retryAfterSeconds: 1)
            : Results.Ok(new { task_id = task.TaskId });
    }

    private static IResult GetTaskResult(string? task_id, HttpRequest request, TaskBoard board, SimulatorOptions options, TimeProvider time)
    {
        if (string.IsNullOrEmpty(task_id) || board.Find(task_id) is not { } task)
        {
            return ProviderError(StatusCodes.Status404NotFound, "task not found");
        }

        var now = time.GetUtcNow();
        var status = task.StatusAt(now);
        var finishing = status is TaskStatuses.Queued or TaskStatuses.Processing;
        var total = (task.FinishesAt - task.CreatedAt).TotalSeconds;
        var elapsed = (now - task.CreatedAt).TotalSeconds;
        var progress = status == TaskStatuses.Queued ? 0
            : finishing ? (int)Math.Clamp((now - task.StartsAt).TotalSeconds * 100 / Math.Max(0.001, (task.FinishesAt - task.StartsAt).TotalSeconds), 0, 99)
            : 100;
        var eta = finishing ? (int)Math.Max(0, Math.Ceiling(total - elapsed + options.EtaBiasSeconds)) : 0;
        var expires = now.AddSeconds(options.VideoUrlTtlSeconds).ToUnixTimeSeconds();
        var videos = status == TaskStatuses.Succeed
            ? new[]
            {
                new
                {
                    video_url = $"{request.Scheme}://{request.Host}/videos/{task.TaskId}.mp4?expires={expires}",
                    video_url_ttl = options.VideoUrlTtlSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    video_type = "mp4",
                },
            }
            : [];

        return Results.Ok(new
        {
            extra = new
            {
                seed = "0",
                debug_info = new
                {
                    request_info = "",
                    submit_time_ms = task.CreatedAt.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
                    execute_time_ms = "",
                    complete_time_ms = "",
                },
            },
            task = new
            {
                task_id = task.TaskId,
                status,
                reason = status == TaskStatuses.Failed ? task.FailureReason : "",
                task_type = "kling-v2.1-i2v",
                eta,
                progress_percent = progress,
            },
            videos,
        });
    }

    private static IResult GetVideo(string taskId, long? expires, TimeProvider time)
    {
        if (expires is null || time.GetUtcNow().ToUnixTimeSeconds() > expires)
        {
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }

        var video = typeof(SimulatorEndpoints).Assembly.GetManifestResourceStream("sample.mp4")!;
        return Results.Stream(video, "video/mp4", $"{taskId}.mp4");
    }

    private static IResult ProviderError(int status, string message, int? retryAfterSeconds = null) =>
        new ProviderErrorResult(status, message, retryAfterSeconds);
}
