using System.Text.Json;
using KlingService.Contracts;
using KlingService.Tests.Fixtures;
using MassTransit.Serialization;

namespace KlingService.Tests.Generation;

/// <summary>What a client in another language sees and sends: camelCase members, enums by name.</summary>
public sealed class WireFormatTests
{
    [Fact]
    public async Task Events_travel_with_camelCase_members_and_enum_names()
    {
        await using var service = await GenerationHarness.StartAsync();

        var json = JsonSerializer.Serialize(
            new VideoFailed(Guid.Empty, null, VideoFailureReason.TimedOut, "late"), SystemTextJsonMessageSerializer.Options);

        Assert.Contains("\"reason\": \"TimedOut\"", json, StringComparison.Ordinal);
        Assert.Contains("\"requestId\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_command_written_by_hand_with_enum_names_is_read_and_defaults_fill_missing_members()
    {
        await using var service = await GenerationHarness.StartAsync();
        const string body = """{ "requestId": "0b4f5c1e-7f7a-4c55-9f63-2f1ad1f6b3a0", "image": "https://x.example/a.png", "prompt": "p", "mode": "Professional" }""";

        var command = JsonSerializer.Deserialize<GenerateVideo>(body, SystemTextJsonMessageSerializer.Options)!;

        Assert.Equal(VideoMode.Professional, command.Mode);
        Assert.Equal(5, command.DurationSeconds);
        Assert.Null(command.GuidanceScale);
    }
}
