using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using KlingService.Simulator;
using Microsoft.Extensions.Time.Testing;

namespace KlingService.Tests.Simulator;

/// <summary>
/// The simulator's faults over a real socket, seen by a plain HttpClient: each one must fail the way the tests
/// of the service rely on, and faults after creation must leave a created, counted task behind.
/// </summary>
public sealed class SimulatorFaultTests
{
    [Fact]
    public async Task Accept_then_504_creates_the_task_and_answers_a_proxy_html_page()
    {
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { AcceptThen504Rate = 1 });
        using var http = Client(simulator);

        using var response = await http.SendAsync(Create("a lighthouse"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<html>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var stats = simulator.Board.Stats();
        Assert.Equal((1, 1, 1), (stats.TasksCreated, stats.CreateCalls, stats.AcceptedThenFailed));
    }

    [Fact]
    public async Task Accept_then_reset_creates_the_task_and_drops_the_connection()
    {
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { AcceptThenResetRate = 1 });
        using var http = Client(simulator);

        await Assert.ThrowsAsync<HttpRequestException>(() => http.SendAsync(Create("a lighthouse")));

        var stats = simulator.Board.Stats();
        Assert.Equal((1, 1), (stats.TasksCreated, stats.AcceptedThenFailed));
    }

    [Fact]
    public async Task Accept_then_late_creates_the_task_and_outlasts_the_client_timeout()
    {
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { AcceptThenLateRate = 1, LateAnswerSeconds = 30 });
        using var http = Client(simulator, TimeSpan.FromMilliseconds(500));

        var timeout = await Assert.ThrowsAsync<TaskCanceledException>(() => http.SendAsync(Create("a lighthouse")));

        Assert.IsType<TimeoutException>(timeout.InnerException);
        var stats = simulator.Board.Stats();
        Assert.Equal((1, 1), (stats.TasksCreated, stats.AcceptedThenFailed));
    }

    [Fact]
    public async Task A_late_answer_is_the_right_answer_for_a_patient_client()
    {
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { AcceptThenLateRate = 1, LateAnswerSeconds = 0.3 });
        using var http = Client(simulator);
        var watch = Stopwatch.StartNew();

        using var response = await http.SendAsync(Create("a lighthouse"));

        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.3), $"answered after {watch.Elapsed}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var taskId = await TaskIdAsync(response);
        Assert.Single(simulator.Board.Tasks(), task => task.TaskId == taskId);
    }

    [Fact]
    public async Task Mixed_accept_then_fail_shares_fail_every_create_after_creating_its_task()
    {
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { AcceptThen504Rate = 0.5, AcceptThenResetRate = 0.5, Seed = 3 });
        using var http = Client(simulator);
        var pages = 0;
        var resets = 0;

        for (var i = 0; i < 10; i++)
        {
            try
            {
                using var response = await http.SendAsync(Create($"prompt {i}"));
                Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
                pages++;
            }
            catch (HttpRequestException)
            {
                resets++;
            }
        }

        Assert.True(pages > 0 && resets > 0, $"{pages} pages, {resets} resets");
        var stats = simulator.Board.Stats();
        Assert.Equal((10, 10, 0), (stats.TasksCreated, stats.AcceptedThenFailed, stats.DuplicatePrompts));
    }

    [Fact]
    public async Task A_slow_body_sends_the_headers_at_once_and_completes_only_after_SlowBodySeconds()
    {
        var slow = TimeSpan.FromSeconds(1);
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { SlowBodyRate = 1, SlowBodySeconds = slow.TotalSeconds });
        using var http = Client(simulator);
        var watch = Stopwatch.StartNew();

        using var response = await http.SendAsync(Create("a lighthouse"), HttpCompletionOption.ResponseHeadersRead);
        var headersAfter = watch.Elapsed;
        Assert.Equal(1, simulator.Board.Stats().TasksCreated);
        var taskId = await TaskIdAsync(response);
        var bodyAfter = watch.Elapsed;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(bodyAfter >= slow, $"body after {bodyAfter}");
        Assert.True(bodyAfter - headersAfter >= slow / 2, $"headers after {headersAfter}, body after {bodyAfter}");
        Assert.StartsWith("sim-", taskId, StringComparison.Ordinal);
        Assert.Equal(0, simulator.Board.Stats().AcceptedThenFailed);
    }

    [Fact]
    public async Task A_canceled_task_ends_TASK_STATUS_CANCELED_with_a_reason_at_its_finish_time()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { CanceledRate = 1, QueueSeconds = 0, ProcessingSeconds = 10 }, time);
        using var http = Client(simulator);
        using var created = await http.SendAsync(Create("a lighthouse"));
        var taskId = await TaskIdAsync(created);

        var processing = await TaskAsync(http, taskId);
        time.Advance(TimeSpan.FromSeconds(11));
        var canceled = await TaskAsync(http, taskId);

        Assert.Equal("TASK_STATUS_PROCESSING", processing.GetProperty("status").GetString());
        Assert.Equal(TaskStatuses.Canceled, canceled.GetProperty("status").GetString());
        Assert.False(string.IsNullOrWhiteSpace(canceled.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task A_disappearing_task_is_seen_queued_then_answers_404_once_its_queue_time_is_over()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { DisappearRate = 1, QueueSeconds = 2, ProcessingSeconds = 10 }, time);
        using var http = Client(simulator);
        using var created = await http.SendAsync(Create("a lighthouse"));
        var taskId = await TaskIdAsync(created);

        var queued = await TaskAsync(http, taskId);
        time.Advance(TimeSpan.FromSeconds(2));
        using var lost = await http.GetAsync(ResultUri(taskId));

        Assert.Equal(TaskStatuses.Queued, queued.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, lost.StatusCode);
        var error = await lost.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((404, "task not found"), (error.GetProperty("code").GetInt32(), error.GetProperty("message").GetString()));
        Assert.Equal(1, simulator.Board.Stats().TasksCreated);
    }

    [Fact]
    public async Task An_unauthorized_window_refuses_create_and_status_calls_with_401_then_lets_them_through()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { UnauthorizedForSeconds = 30 }, time);
        using var http = Client(simulator);

        using var refusedCreate = await http.SendAsync(Create("a lighthouse"));
        using var refusedStatus = await http.GetAsync(ResultUri("any"));
        time.Advance(TimeSpan.FromSeconds(30));
        using var created = await http.SendAsync(Create("a lighthouse"));

        Assert.Equal(HttpStatusCode.Unauthorized, refusedCreate.StatusCode);
        Assert.Equal(401, (await refusedCreate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetInt32());
        Assert.Equal(HttpStatusCode.Unauthorized, refusedStatus.StatusCode);
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var stats = simulator.Board.Stats();
        Assert.Equal((1, 2), (stats.TasksCreated, stats.UnauthorizedAnswers));
    }

    [Fact]
    public async Task The_admin_endpoint_opens_a_403_window_now()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions(), time);
        using var http = Client(simulator);

        using var before = await http.SendAsync(Create("first"));
        using var opened = await http.PostAsync($"{SimulatorEndpoints.UnauthorizedPath}?seconds=5&status=403", null);
        using var refused = await http.SendAsync(Create("second"));
        time.Advance(TimeSpan.FromSeconds(5));
        using var after = await http.SendAsync(Create("third"));
        using var badStatus = await http.PostAsync($"{SimulatorEndpoints.UnauthorizedPath}?seconds=5&status=500", null);

        Assert.Equal(
            (HttpStatusCode.OK, HttpStatusCode.NoContent, HttpStatusCode.Forbidden, HttpStatusCode.OK, HttpStatusCode.BadRequest),
            (before.StatusCode, opened.StatusCode, refused.StatusCode, after.StatusCode, badStatus.StatusCode));
        Assert.Equal(403, (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetInt32());
        Assert.Equal((2, 1), (simulator.Board.Stats().TasksCreated, simulator.Board.Stats().UnauthorizedAnswers));
    }

    [Fact]
    public async Task A_chunked_create_is_refused_411_and_one_with_Content_Length_is_accepted()
    {
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions());
        using var http = Client(simulator);

        using var refused = await http.PostAsync(SimulatorEndpoints.CreatePath, Chunked("a lighthouse"));
        using var accepted = await http.SendAsync(Create("a lighthouse"));

        Assert.Equal(HttpStatusCode.LengthRequired, refused.StatusCode);
        Assert.Equal(411, (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetInt32());
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var stats = simulator.Board.Stats();
        Assert.Equal((1, 1), (stats.TasksCreated, stats.LengthRequiredAnswers));
    }

    [Fact]
    public async Task A_chunked_create_is_accepted_when_Content_Length_is_not_required()
    {
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { RequireContentLength = false });
        using var http = Client(simulator);

        using var accepted = await http.PostAsync(SimulatorEndpoints.CreatePath, Chunked("a lighthouse"));

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task Tasks_created_with_a_prompt_already_used_count_as_duplicates()
    {
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions());
        using var http = Client(simulator);

        foreach (var prompt in new[] { "one", "two", "one", "one" })
        {
            using var response = await http.SendAsync(Create(prompt));
            response.EnsureSuccessStatusCode();
        }

        Assert.Equal((4, 2), (simulator.Board.Stats().TasksCreated, simulator.Board.Stats().DuplicatePrompts));
        Assert.Equal(3, simulator.Board.TasksByPrompt()["one"].Count());
        var served = await http.GetFromJsonAsync<SimulatorStats>(SimulatorEndpoints.StatsPath);
        Assert.Equal(2, served!.DuplicatePrompts);
    }

    private static HttpClient Client(RunningSimulator simulator, TimeSpan? timeout = null) => new()
    {
        BaseAddress = simulator.BaseAddress,
        Timeout = timeout ?? TimeSpan.FromSeconds(30),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", simulator.Options.ApiKey) },
    };

    private static object Body(string prompt) => new { image = "https://example.com/a.png", prompt, mode = "Standard", duration = "5" };

    /// <summary>A valid create call as curl sends it: a JSON body of known length.</summary>
    private static HttpRequestMessage Create(string prompt) => new(HttpMethod.Post, SimulatorEndpoints.CreatePath)
    {
        Content = new StringContent(JsonSerializer.Serialize(Body(prompt)), Encoding.UTF8, "application/json"),
    };

    /// <summary>The same body streamed without a length, so HttpClient sends it chunked.</summary>
    private static JsonContent Chunked(string prompt) => JsonContent.Create(Body(prompt));

    private static string ResultUri(string taskId) => $"{SimulatorEndpoints.ResultPath}?task_id={taskId}";

    private static async Task<string> TaskIdAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("task_id").GetString()!;

    private static async Task<JsonElement> TaskAsync(HttpClient http, string taskId)
    {
        using var response = await http.GetAsync(ResultUri(taskId));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("task");
    }
}
