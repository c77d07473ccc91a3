using System.Text.Json;

namespace KlingService.Simulator;

/// <summary>The two provider endpoints, the video download, and a stats page and fault switches for tests and benchmarks.</summary>
public static class SimulatorEndpoints
{
    public const string CreatePath = "/v3/async/kling-v2.1-i2v";
    public const string ResultPath = "/v3/async/task-result";
    public const string StatsPath = "/_simulator/stats";
    public const string UnauthorizedPath = "/_simulator/unauthorized";
    public const string VideosUnavailablePath = "/_simulator/videos/unavailable";
    public const string VideoPath = "/videos/{taskId}.mp4";
    private const string NotMp4Page = "<html><head><title>Sign in</title></head><body>not a video</body></html>";

    public static void MapSimulator(this WebApplication app)
    {
        app.MapPost(CreatePath, CreateTask);
        app.MapGet(ResultPath, GetTaskResult);
        app.MapGet(VideoPath, GetVideo);
        app.MapGet(StatsPath, (TaskBoard board) => Results.Ok(board.Stats()));
        app.MapPost(UnauthorizedPath, OpenUnauthorizedWindow);
        app.MapPost(VideosUnavailablePath, OpenVideosUnavailableWindow);
    }

    /// <summary><c>POST /_simulator/videos/unavailable?seconds=N</c>: every video download answers 503 for the next N seconds (0 ends the window).</summary>
    private static IResult OpenVideosUnavailableWindow(double seconds, TaskBoard board)
    {
        if (seconds < 0 || !double.IsFinite(seconds))
        {
            return Results.BadRequest("seconds must be 0 or more");
        }

        board.MakeVideosUnavailableFor(TimeSpan.FromSeconds(seconds));
        return Results.NoContent();
    }

    /// <summary><c>POST /_simulator/unauthorized?seconds=N&amp;status=403</c>: every provider call answers 401 or 403 for the next N seconds.</summary>
    private static IResult OpenUnauthorizedWindow(double seconds, int? status, TaskBoard board, SimulatorOptions options)
    {
        var refusal = status ?? options.UnauthorizedStatusCode;
        if (seconds < 0 || refusal is not (StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden))
        {
            return Results.BadRequest("seconds must be 0 or more and status 401 or 403");
        }

        board.RefuseKeysFor(TimeSpan.FromSeconds(seconds), refusal);
        return Results.NoContent();
    }

    private static async Task<IResult> CreateTask(HttpRequest request, TaskBoard board, SimulatorOptions options, TimeProvider time)
    {
        board.CountCreateStarted();
        string? createdTaskId = null;
        var context = request.HttpContext;
        context.Response.OnCompleted(() =>
        {
            if (!context.RequestAborted.IsCancellationRequested)
            {
                board.CountCreateAnswered(createdTaskId);
            }

            return Task.CompletedTask;
        });

        if (options.RequireContentLength && request.ContentLength is null)
        {
            board.CountLengthRequired();
            return ProviderError(StatusCodes.Status411LengthRequired, "Content-Length is required");
        }

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
        if (task is null)
        {
            return ProviderError(StatusCodes.Status429TooManyRequests, "concurrent task limit reached for this account", retryAfterSeconds: 1);
        }

        // The task exists and is charged from here on, whatever the caller hears.
        var answer = new { task_id = task.TaskId };
        var fault = board.Pick(options.AcceptThen504Rate, options.AcceptThenResetRate, options.AcceptThenLateRate, options.SlowBodyRate);
        // Only a whole 200 tells the caller its task id; a 504 page is an answer without it.
        createdTaskId = fault is 0 ? null : task.TaskId;
        return fault switch
        {
            0 => AcceptedThenFailed(board, new GatewayTimeoutPageResult()),
            1 => AcceptedThenFailed(board, new ConnectionResetResult()),
            2 => AcceptedThenFailed(board, new LateAnswerResult(Results.Ok(answer), TimeSpan.FromSeconds(options.LateAnswerSeconds), time)),
            3 => new SlowBodyResult(answer, TimeSpan.FromSeconds(options.SlowBodySeconds), time),
            _ => Results.Ok(answer),
        };
    }

    private static IResult AcceptedThenFailed(TaskBoard board, IResult failure)
    {
        board.CountAcceptedThenFailed();
        return failure;
    }

    private static IResult GetTaskResult(string? task_id, HttpRequest request, TaskBoard board, SimulatorOptions options, TimeProvider time)
    {
        var now = time.GetUtcNow();
        if (string.IsNullOrEmpty(task_id) || board.Find(task_id) is not { } task || !task.IsKnownAt(now))
        {
            return ProviderError(StatusCodes.Status404NotFound, "task not found");
        }

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
                reason = task.ReasonAt(now),
                task_type = "kling-v2.1-i2v",
                eta,
                progress_percent = progress,
            },
            videos,
        });
    }

    /// <summary>
    /// <c>GET /videos/{taskId}.mp4?expires=…</c>: the task's own MP4 (<see cref="SimulatedVideo.BytesFor"/>), 403 once the URL
    /// has expired, 503 while the video is unavailable, and otherwise the download faults the options ask for.
    /// </summary>
    private static IResult GetVideo(string taskId, long? expires, TaskBoard board, SimulatorOptions options, TimeProvider time)
    {
        board.CountVideoDownload();
        if (expires is null || time.GetUtcNow().ToUnixTimeSeconds() > expires)
        {
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }

        if (board.VideoUnavailableFor(taskId) is { } wait)
        {
            board.CountVideoFault();
            return ProviderError(StatusCodes.Status503ServiceUnavailable, "video is temporarily unavailable", retryAfterSeconds: (int)Math.Max(1, Math.Ceiling(wait.TotalSeconds)));
        }

        var delivery = board.Pick(options.VideoSlowRate, options.VideoTruncateRate, options.VideoNotMp4Rate) switch
        {
            0 => VideoDelivery.Slow,
            1 => VideoDelivery.Truncated,
            2 => (VideoDelivery?)null,
            _ => VideoDelivery.Whole,
        };
        if (delivery is null)
        {
            board.CountVideoFault();
            return Results.Content(NotMp4Page, "text/html", System.Text.Encoding.UTF8, StatusCodes.Status200OK);
        }

        var padded = options.VideoOversizeBytes >= SimulatedVideo.BytesFor(taskId).Length + SimulatedVideo.FreeBoxHeaderBytes;
        if (delivery != VideoDelivery.Whole || padded)
        {
            board.CountVideoFault();
        }

        return new VideoResult(taskId, options.VideoOversizeBytes, delivery.Value, TimeSpan.FromSeconds(options.VideoSlowSeconds), time);
    }

    private static IResult ProviderError(int status, string message, int? retryAfterSeconds = null) =>
        new ProviderErrorResult(status, message, retryAfterSeconds);
}
