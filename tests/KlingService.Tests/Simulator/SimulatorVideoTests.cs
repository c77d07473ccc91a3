using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using KlingService.Simulator;
using Microsoft.Extensions.Time.Testing;

namespace KlingService.Tests.Simulator;

/// <summary>
/// The simulator's video download over a real socket, seen by a plain HttpClient: every task has its own
/// deterministic MP4, and the download faults fail the way a copy into an artifact store must notice.
/// </summary>
public sealed class SimulatorVideoTests
{
    private static readonly byte[] Ftyp = "ftyp"u8.ToArray();

    [Fact]
    public async Task Two_tasks_get_different_valid_mp4s_each_the_same_on_every_download()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { QueueSeconds = 0, ProcessingSeconds = 1 }, time);
        using var http = Client(simulator);
        var (firstId, firstUrl) = await CreateFinishedTaskAsync(http, time, "a lighthouse");
        var (secondId, secondUrl) = await CreateFinishedTaskAsync(http, time, "a harbour");

        var first = await DownloadAsync(http, firstUrl);
        var firstAgain = await DownloadAsync(http, firstUrl);
        var second = await DownloadAsync(http, secondUrl);

        Assert.Equal(SimulatedVideo.BytesFor(firstId), first);
        Assert.Equal(first, firstAgain);
        Assert.Equal(SimulatedVideo.BytesFor(secondId), second);
        Assert.Equal(SimulatedVideo.BytesFor(secondId), SimulatedVideo.BytesFor(secondId));
        Assert.Equal(Ftyp, first[4..8]);
        Assert.Equal(Ftyp, second[4..8]);
        Assert.NotEqual(Convert.ToHexString(SHA256.HashData(first)), Convert.ToHexString(SHA256.HashData(second)));
        Assert.True(first.Length > SimulatedVideo.Sample.Length);
        Assert.Equal(SimulatedVideo.Sample.ToArray(), first[..SimulatedVideo.Sample.Length]);
        AssertTopLevelBoxesCover(first);
        var stats = simulator.Board.Stats();
        Assert.Equal((3, 0), (stats.VideoDownloads, stats.VideoFaults));
    }

    [Fact]
    public async Task A_slow_download_sends_the_headers_at_once_and_completes_only_after_VideoSlowSeconds()
    {
        var slow = TimeSpan.FromSeconds(1);
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { VideoSlowRate = 1, VideoSlowSeconds = slow.TotalSeconds });
        using var http = Client(simulator);
        var watch = Stopwatch.StartNew();

        using var response = await http.GetAsync(VideoUri("sim-slow"), HttpCompletionOption.ResponseHeadersRead);
        var headersAfter = watch.Elapsed;
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var bodyAfter = watch.Elapsed;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(bodyAfter >= slow, $"body after {bodyAfter}");
        Assert.True(bodyAfter - headersAfter >= slow / 2, $"headers after {headersAfter}, body after {bodyAfter}");
        Assert.Equal(SimulatedVideo.BytesFor("sim-slow"), bytes);
        Assert.Equal((1, 1), (simulator.Board.Stats().VideoDownloads, simulator.Board.Stats().VideoFaults));
    }

    [Fact]
    public async Task A_truncated_download_declares_the_full_length_and_breaks_off_after_about_half()
    {
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { VideoTruncateRate = 1 });
        using var http = Client(simulator);
        var full = SimulatedVideo.BytesFor("sim-cut").Length;

        using var response = await http.GetAsync(VideoUri("sim-cut"), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(full, response.Content.Headers.ContentLength);
        var (read, error) = await CountAsync(response);

        Assert.IsAssignableFrom<IOException>(error);
        Assert.InRange(read, 0, full / 2);
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetByteArrayAsync(VideoUri("sim-cut")));
        Assert.Equal((2, 2), (simulator.Board.Stats().VideoDownloads, simulator.Board.Stats().VideoFaults));
    }

    [Fact]
    public async Task A_not_mp4_download_is_a_200_html_page()
    {
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { VideoNotMp4Rate = 1 });
        using var http = Client(simulator);

        using var response = await http.GetAsync(VideoUri("sim-page"));
        var bytes = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("not a video", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.NotEqual(Ftyp, bytes[4..8]);
        Assert.Equal(1, simulator.Board.Stats().VideoFaults);
    }

    [Fact]
    public async Task An_oversize_download_streams_a_valid_mp4_of_exactly_the_configured_size()
    {
        const long size = 8 * 1024 * 1024 + 3;
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { VideoOversizeBytes = size });
        using var http = Client(simulator);
        var video = SimulatedVideo.BytesFor("sim-big");

        using var response = await http.GetAsync(VideoUri("sim-big"), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(size, response.Content.Headers.ContentLength);
        await using var body = await response.Content.ReadAsStreamAsync();
        var head = new byte[video.Length + 8];
        await body.ReadExactlyAsync(head);
        long read = head.Length;
        var buffer = new byte[81920];
        for (int n; (n = await body.ReadAsync(buffer)) > 0;)
        {
            read += n;
        }

        Assert.Equal(size, read);
        Assert.Equal(Ftyp, head[4..8]);
        Assert.Equal(video, head[..video.Length]);
        Assert.Equal(size - video.Length, BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(video.Length)));
        Assert.Equal("free"u8.ToArray(), head[(video.Length + 4)..]);
        Assert.Equal(1, simulator.Board.Stats().VideoFaults);
    }

    [Fact]
    public void A_padding_box_past_4_GiB_uses_the_64_bit_size_form()
    {
        var small = SimulatedVideo.FreeBoxHeader(1000);
        var large = SimulatedVideo.FreeBoxHeader(5L * 1024 * 1024 * 1024);

        Assert.Equal((8, 1000u), (small.Length, BinaryPrimitives.ReadUInt32BigEndian(small)));
        Assert.Equal((16, 1u), (large.Length, BinaryPrimitives.ReadUInt32BigEndian(large)));
        Assert.Equal("free"u8.ToArray(), large[4..8]);
        Assert.Equal(5UL * 1024 * 1024 * 1024, BinaryPrimitives.ReadUInt64BigEndian(large.AsSpan(8)));
    }

    [Fact]
    public async Task A_video_answers_503_for_VideoUnavailableForSeconds_after_its_task_finishes_then_200()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var simulator = await KlingSimulator.StartAsync(
            new SimulatorOptions { QueueSeconds = 0, ProcessingSeconds = 1, VideoUnavailableForSeconds = 30 }, time);
        using var http = Client(simulator);
        var (taskId, url) = await CreateFinishedTaskAsync(http, time, "a lighthouse");

        using var unavailable = await http.GetAsync(url);
        time.Advance(TimeSpan.FromSeconds(30));
        using var available = await http.GetAsync(url);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode);
        Assert.NotNull(unavailable.Headers.RetryAfter?.Delta);
        Assert.InRange(unavailable.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, available.StatusCode);
        Assert.Equal(SimulatedVideo.BytesFor(taskId), await available.Content.ReadAsByteArrayAsync());
        Assert.Equal((2, 1), (simulator.Board.Stats().VideoDownloads, simulator.Board.Stats().VideoFaults));
    }

    [Fact]
    public async Task The_admin_endpoint_makes_every_download_answer_503_for_a_while()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions(), time);
        using var http = Client(simulator);

        using var before = await http.GetAsync(VideoUri("sim-a", time));
        using var opened = await http.PostAsync($"{SimulatorEndpoints.VideosUnavailablePath}?seconds=5", null);
        using var refused = await http.GetAsync(VideoUri("sim-b", time));
        time.Advance(TimeSpan.FromSeconds(5));
        using var after = await http.GetAsync(VideoUri("sim-b", time));
        using var bad = await http.PostAsync($"{SimulatorEndpoints.VideosUnavailablePath}?seconds=-1", null);

        Assert.Equal(
            (HttpStatusCode.OK, HttpStatusCode.NoContent, HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK, HttpStatusCode.BadRequest),
            (before.StatusCode, opened.StatusCode, refused.StatusCode, after.StatusCode, bad.StatusCode));
        Assert.Equal(503, (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetInt32());
        var served = await http.GetFromJsonAsync<SimulatorStats>(SimulatorEndpoints.StatsPath);
        Assert.Equal((3, 1), (served!.VideoDownloads, served.VideoFaults));
    }

    [Fact]
    public async Task An_expired_or_unsigned_video_url_answers_403()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { QueueSeconds = 0, ProcessingSeconds = 1, VideoUrlTtlSeconds = 60 }, time);
        using var http = Client(simulator);
        var (taskId, url) = await CreateFinishedTaskAsync(http, time, "a lighthouse");

        using var fresh = await http.GetAsync(url);
        time.Advance(TimeSpan.FromSeconds(61));
        using var expired = await http.GetAsync(url);
        using var unsigned = await http.GetAsync($"/videos/{taskId}.mp4");

        Assert.Equal(
            (HttpStatusCode.OK, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden),
            (fresh.StatusCode, expired.StatusCode, unsigned.StatusCode));
        Assert.Equal((3, 0), (simulator.Board.Stats().VideoDownloads, simulator.Board.Stats().VideoFaults));
    }

    [Fact]
    public async Task Download_faults_follow_the_seed()
    {
        // Truncations are left out: each one holds its connection open a moment before the abort.
        var options = () => new SimulatorOptions { VideoNotMp4Rate = 0.5, Seed = 11 };

        var first = await OutcomesAsync(options());
        var second = await OutcomesAsync(options());

        Assert.Equal(first, second);
        Assert.Equal(2, first.Distinct().Count());
    }

    private static async Task<List<string>> OutcomesAsync(SimulatorOptions options)
    {
        await using var simulator = await KlingSimulator.StartAsync(options);
        using var http = Client(simulator);
        var outcomes = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            try
            {
                using var response = await http.GetAsync(VideoUri($"sim-{i}"));
                outcomes.Add(response.Content.Headers.ContentType?.MediaType ?? "none");
            }
            catch (HttpRequestException)
            {
                outcomes.Add("truncated");
            }
        }

        var stats = simulator.Board.Stats();
        Assert.Equal(12, stats.VideoDownloads);
        Assert.Equal(outcomes.Count(outcome => outcome != SimulatedVideo.ContentType), stats.VideoFaults);
        return outcomes;
    }

    /// <summary>The file is a sequence of top-level boxes whose sizes add up to its length, ending with the task's free box.</summary>
    private static void AssertTopLevelBoxesCover(byte[] mp4)
    {
        var types = new List<string>();
        var at = 0;
        while (at < mp4.Length)
        {
            var size = (int)BinaryPrimitives.ReadUInt32BigEndian(mp4.AsSpan(at));
            types.Add(Encoding.ASCII.GetString(mp4, at + 4, 4));
            Assert.True(size >= 8, $"box {types[^1]} of size {size}");
            at += size;
        }

        Assert.Equal(mp4.Length, at);
        Assert.Equal(("ftyp", "free"), (types[0], types[^1]));
    }

    private static async Task<(long Read, Exception? Error)> CountAsync(HttpResponseMessage response)
    {
        long read = 0;
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[8192];
            for (int n; (n = await body.ReadAsync(buffer)) > 0;)
            {
                read += n;
            }
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException)
        {
            return (read, exception);
        }

        return (read, null);
    }

    private static async Task<byte[]> DownloadAsync(HttpClient http, string url)
    {
        using var response = await http.GetAsync(url);
        response.EnsureSuccessStatusCode();
        Assert.Equal(SimulatedVideo.ContentType, response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsByteArrayAsync();
    }

    /// <summary>Creates a task, lets it finish and returns its id and video URL.</summary>
    private static async Task<(string TaskId, string Url)> CreateFinishedTaskAsync(HttpClient http, FakeTimeProvider time, string prompt)
    {
        using var created = await http.SendAsync(new HttpRequestMessage(HttpMethod.Post, SimulatorEndpoints.CreatePath)
        {
            Content = new StringContent(
                JsonSerializer.Serialize(new { image = "https://example.com/a.png", prompt, mode = "Standard", duration = "5" }),
                Encoding.UTF8,
                "application/json"),
        });
        created.EnsureSuccessStatusCode();
        var taskId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("task_id").GetString()!;
        time.Advance(TimeSpan.FromSeconds(2));
        var result = await http.GetFromJsonAsync<JsonElement>($"{SimulatorEndpoints.ResultPath}?task_id={taskId}");
        return (taskId, result.GetProperty("videos")[0].GetProperty("video_url").GetString()!);
    }

    private static string VideoUri(string taskId, TimeProvider? time = null) =>
        $"/videos/{taskId}.mp4?expires={(time ?? TimeProvider.System).GetUtcNow().AddHours(1).ToUnixTimeSeconds()}";

    private static HttpClient Client(RunningSimulator simulator) => new()
    {
        BaseAddress = simulator.BaseAddress,
        Timeout = TimeSpan.FromSeconds(30),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", simulator.Options.ApiKey) },
    };
}
