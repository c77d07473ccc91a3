using System.Net;
using System.Net.Sockets;
using System.Text;
using KlingService.Generation;
using KlingService.Kling;
using KlingService.Simulator;
using KlingService.Tests.Fixtures;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace KlingService.Tests.Kling;

/// <summary>
/// The real client over a socket against a provider that fails after it created the task: each
/// failure is classified for what it proves, so the launcher never repeats a call that may have charged.
/// </summary>
public sealed class CreateCallOutcomeTests
{
    private static CreateTaskRequest Request(string prompt = "a lighthouse at dusk") => new(Images.Base64Png(), prompt, "Standard", "5", null, null);

    public static TheoryData<string, SimulatorOptions> FaultsAfterTheTaskExists() => new()
    {
        { "a gateway's 504 page", new SimulatorOptions { AcceptThen504Rate = 1 } },
        { "a reset connection", new SimulatorOptions { AcceptThenResetRate = 1 } },
        { "an answer later than the create timeout", new SimulatorOptions { AcceptThenLateRate = 1, LateAnswerSeconds = 5 } },
        { "headers in time, the body after the create timeout", new SimulatorOptions { SlowBodyRate = 1, SlowBodySeconds = 5 } },
    };

    [Theory]
    [MemberData(nameof(FaultsAfterTheTaskExists))]
    public async Task A_create_that_fails_after_the_task_was_created_is_classified_ambiguous(string fault, SimulatorOptions options)
    {
        await using var kling = await SimulatorClient.StartAsync(options, createTimeout: TimeSpan.FromSeconds(1.5), realTime: true);

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => kling.Api.CreateTaskAsync(Request(), CancellationToken.None));

        Assert.Equal(1, kling.Simulator.Board.Stats().TasksCreated);
        Assert.True(CreateFailures.Classify(failure) == CreateFailureKind.Ambiguous, $"{fault}: {failure.GetType().Name} {failure.Message}");
    }

    [Fact]
    public async Task A_slow_body_within_the_create_timeout_is_read_whole()
    {
        await using var kling = await SimulatorClient.StartAsync(
            new SimulatorOptions { SlowBodyRate = 1, SlowBodySeconds = 1 }, createTimeout: TimeSpan.FromSeconds(10), realTime: true);

        var created = await kling.Api.CreateTaskAsync(Request(), CancellationToken.None);

        Assert.StartsWith("sim-", created.TaskId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_create_call_carries_a_Content_Length_as_the_documented_request_does()
    {
        // The simulator refuses a chunked create body with 411, as gateways that need a length do.
        await using var kling = await SimulatorClient.StartAsync(new SimulatorOptions { RequireContentLength = true });

        var created = await kling.Api.CreateTaskAsync(Request(), CancellationToken.None);

        Assert.Equal(0, kling.Simulator.Board.Stats().LengthRequiredAnswers);
        Assert.StartsWith("sim-", created.TaskId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_503_from_the_provider_and_a_refused_connection_prove_nothing_was_created()
    {
        await using var kling = await SimulatorClient.StartAsync(new SimulatorOptions { ServerErrorRate = 1 });
        var unavailable = await Assert.ThrowsAsync<KlingApiException>(() => kling.Api.CreateTaskAsync(Request(), CancellationToken.None));

        await using var nowhere = ClientFor(new Uri($"http://127.0.0.1:{ClosedPort()}/"), "key");
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => nowhere.GetRequiredService<IKlingApi>().CreateTaskAsync(Request(), CancellationToken.None));

        Assert.Equal(CreateFailureKind.NothingCreated, CreateFailures.Classify(unavailable));
        Assert.Equal(CreateFailureKind.NothingCreated, CreateFailures.Classify(refused));
        Assert.Equal(0, kling.Simulator.Board.Stats().TasksCreated);
    }

    [Fact]
    public async Task A_connect_that_times_out_proves_nothing_was_sent()
    {
        // A listener whose backlog is full and never accepts: the next SYN is dropped and the connect hangs.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var fillers = new List<Socket>();
        for (var i = 0; i < 8; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _ = filler.ConnectAsync(IPAddress.Loopback, port);
            fillers.Add(filler);
        }

        await Task.Delay(200);
        await using var provider = ClientFor(new Uri($"http://127.0.0.1:{port}/"), "key", ("Kling:ConnectTimeout", "00:00:00.500"));

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => provider.GetRequiredService<IKlingApi>().CreateTaskAsync(Request(), CancellationToken.None));
        fillers.ForEach(f => f.Dispose());

        Assert.Contains("connect timeout", failure.Message, StringComparison.Ordinal);
        Assert.Equal(CreateFailureKind.NothingCreated, CreateFailures.Classify(failure));
    }

    [Fact]
    public async Task Provider_text_that_echoes_the_key_is_scrubbed_before_it_reaches_an_exception()
    {
        const string key = "live-key-5f2a9c";
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var echo = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var buffer = new byte[64 * 1024];
            await stream.ReadAtLeastAsync(buffer, 1, throwOnEndOfStream: false);
            // The second copy straddles the 300-character cut of the message.
            var body = $$"""{"code":400,"message":"bad request; you sent Authorization: Bearer {{key}} and{{new string('.', 206)}}key={{key}}"}""";
            var answer = $"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}";
            await stream.WriteAsync(Encoding.UTF8.GetBytes(answer));
        });
        await using var provider = ClientFor(new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/"), key);

        var failure = await Assert.ThrowsAsync<KlingApiException>(() => provider.GetRequiredService<IKlingApi>().CreateTaskAsync(Request(), CancellationToken.None));
        await echo;

        Assert.DoesNotContain(key, failure.Message, StringComparison.Ordinal);
        Assert.Contains("Bearer [redacted]", failure.Message, StringComparison.Ordinal);
        Assert.Equal(CreateFailureKind.Rejected, CreateFailures.Classify(failure));
    }

    private static ServiceProvider ClientFor(Uri baseUrl, string key, params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["Kling:BaseUrl"] = baseUrl.ToString(),
            ["Kling:ApiKey"] = key,
        };
        foreach (var (name, value) in settings)
        {
            values[name] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddKlingClient(configuration);
        return services.BuildServiceProvider();
    }

    private static int ClosedPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
