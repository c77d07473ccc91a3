using System.Text;
using System.Text.Json;
using KlingService.Contracts;
using KlingService.Tests.Fixtures;
using RabbitMQ.Client;

namespace KlingService.Tests.Integration;

/// <summary>
/// Hostile input on the real queue: each bad command ends as a classified VideoFailed or in the
/// error queue, none costs a create call, and good jobs sent alongside all finish.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class BadInputTests(InfrastructureFixture infrastructure)
{
    private const string Urn = "urn:message:KlingService.Contracts:GenerateVideo";

    // Readable commands that break a rule: each must be answered with VideoFailed(InvalidRequest).
    private static IEnumerable<string> InvalidCommands()
    {
        var png = Images.Base64Png();
        yield return Command(("prompt", ""));
        yield return Command(("prompt", "   "));
        yield return Command(("prompt", null));
        yield return Command(("prompt", new string('p', 2501)));
        yield return Command(("prompt", new string('p', 200_000)));
        yield return Command(("negativePrompt", new string('n', 2501)));
        yield return Command(("durationSeconds", 7));
        yield return Command(("durationSeconds", 0));
        yield return Command(("durationSeconds", -5));
        yield return Command(("guidanceScale", 1.5));
        yield return Command(("guidanceScale", -1));
        yield return Command(("guidanceScale", 0.333));
        yield return Command(("mode", 7));
        yield return Command(("image", null));
        yield return Command(("image", ""));
        yield return Command(("image", "ftp://example.com/a.png"));
        yield return Command(("image", "https://"));
        yield return Command(("image", "file:///etc/passwd"));
        yield return Command(("image", "not base64 at all!"));
        yield return Command(("image", Convert.ToBase64String("GIF89a-not-an-allowed-format"u8.ToArray())));
        yield return Command(("image", Convert.ToBase64String(new byte[64])));
        yield return Command(("image", Images.Base64Png(10, 10)));
        yield return Command(("image", Images.Base64Png(299, 1000)));
        yield return Command(("image", Convert.ToBase64String(Images.Jpeg(640, 200))));
        yield return Command(("image", "data:text/plain;base64," + png));
        yield return Command(("image", Convert.ToBase64String(Images.Png(2000, 2000, padTo: (10 * 1024 * 1024) + 1))));
        yield return Command(("requestId", Guid.Empty));
        yield return Command(("requestId", null));
    }

    /// <summary>A valid command as JSON, with some members replaced (null removes one).</summary>
    private static string Command(params (string Member, object? Value)[] changes)
    {
        var members = new Dictionary<string, object?>
        {
            ["requestId"] = Guid.NewGuid(),
            ["image"] = Images.Base64Png(),
            ["prompt"] = "a valid prompt",
        };
        foreach (var (member, value) in changes)
        {
            if (value is null)
            {
                members.Remove(member);
            }
            else
            {
                members[member] = value;
            }
        }

        return JsonSerializer.Serialize(members);
    }

    // Bodies that cannot be read as a GenerateVideo at all: they belong in the error queue.
    private static IEnumerable<string> UnreadableBodies()
    {
        yield return "this is not json";
        yield return """{ "requestId": "0b4f5c1e-7f7a-4c55-9f63-2f1ad1f6b3a0", "image": "x", """;
        yield return """{ "requestId": "0b4f5c1e-7f7a-4c55-9f63-2f1ad1f6b3a0", "image": "https://a.example/b.png", "prompt": "ok", "mode": "Ultra" }""";
        yield return """{ "requestId": "0b4f5c1e-7f7a-4c55-9f63-2f1ad1f6b3a1", "image": "https://a.example/b.png", "prompt": "ok", "durationSeconds": "five" }""";
        yield return """{ "requestId": "not-a-guid", "image": "https://a.example/b.png", "prompt": "ok" }""";
        yield return """{ "requestId": "0b4f5c1e-7f7a-4c55-9f63-2f1ad1f6b3a2", "image": ["https://a.example/b.png"], "prompt": "ok" }""";
    }

    [Fact]
    public async Task Every_bad_command_is_classified_or_parked_without_a_create_call_and_good_jobs_still_finish()
    {
        var environment = await infrastructure.CreateEnvironmentAsync();
        await using var service = await EmbeddedService.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:RabbitMq"] = environment.RabbitMq.ToString(),
            ["ConnectionStrings:Postgres"] = environment.Postgres,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await using var client = await BusClient.StartAsync(environment.RabbitMq);
        var invalid = InvalidCommands().ToList();
        var unreadable = UnreadableBodies().ToList();
        var good = Enumerable.Range(0, 5).Select(i => new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), $"good {i}")).ToList();

        var factory = new ConnectionFactory { Uri = environment.RabbitMq };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        foreach (var body in invalid.Select(Envelope).Concat(unreadable.Select(Envelope)))
        {
            await PublishRawAsync(channel, body);
        }

        await client.SendAsync(good);

        var expectedEvents = invalid.Count + good.Count;
        Assert.Equal(expectedEvents, await client.WaitForTerminalAsync(expectedEvents, TimeSpan.FromMinutes(2)));
        var errorQueue = await WaitForErrorQueueAsync(channel, unreadable.Count);

        Assert.True(invalid.Count + unreadable.Count >= 30, "The corpus must hold at least 30 bad commands.");
        Assert.Equal(invalid.Count, client.Terminal.OfType<VideoFailed>().Count(f => f.Reason == VideoFailureReason.InvalidRequest));
        Assert.Equal(good.Select(g => g.RequestId).Order(), client.Terminal.OfType<VideoReady>().Select(r => r.RequestId).Order());
        Assert.Equal((uint)unreadable.Count, errorQueue);
        Assert.Equal(good.Count, service.Simulator!.Board.Stats().CreateCalls);
    }

    private static string Envelope(string message) =>
        $$"""{ "messageId": "{{Guid.NewGuid()}}", "messageType": ["{{Urn}}"], "message": {{message}} }""";

    private static async Task PublishRawAsync(IChannel channel, string body)
    {
        var properties = new BasicProperties { ContentType = "application/vnd.masstransit+json", Persistent = true, MessageId = Guid.NewGuid().ToString() };
        await channel.BasicPublishAsync("", "generate-video", mandatory: false, properties, Encoding.UTF8.GetBytes(body));
    }

    private static async Task<uint> WaitForErrorQueueAsync(IChannel channel, int expected)
    {
        var giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        uint count = 0;
        while (DateTime.UtcNow < giveUp && (count = await CountAsync(channel)) < expected)
        {
            await Task.Delay(200);
        }

        return count;
    }

    private static async Task<uint> CountAsync(IChannel channel)
    {
        try
        {
            return (await channel.QueueDeclarePassiveAsync("generate-video_error")).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            // Not declared yet: nothing has failed so far. The failed passive declare closed the channel.
            return 0;
        }
    }
}
