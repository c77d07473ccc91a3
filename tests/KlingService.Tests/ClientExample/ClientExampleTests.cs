using System.Text.RegularExpressions;
using KlingService.Contracts;
using KlingService.Simulator;
using KlingService.Tests.Fixtures;
using MyTeam.Videos;

namespace KlingService.Tests.ClientExample;

/// <summary>The README's client example is this project's <see cref="VideoClient"/>, and it works against the service on RabbitMQ.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed partial class ClientExampleTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public void The_README_shows_the_compiled_example_as_it_is()
    {
        var file = File.ReadAllText(Path.Combine(Readme.RepositoryRoot(), "tests", "KlingService.Tests", "ClientExample", "VideoClient.cs"));

        var code = FileExample().Match(file);
        var shown = Readme.Block("client-example");

        Assert.True(code.Success, "VideoClient.cs has lost its <client-example> markers.");
        Assert.True(shown is not null, "The README has no client example between <!-- client-example --> markers.");
        Assert.Equal(code.Groups["code"].Value.Trim(), shown.Trim());
    }

    [Fact]
    public async Task The_example_sends_a_job_asks_its_status_and_hears_its_VideoReady()
    {
        var environment = await infrastructure.CreateEnvironmentAsync();
        await using var simulator = await KlingSimulator.StartAsync(new SimulatorOptions { QueueSeconds = 0.3, ProcessingSeconds = 1, Seed = 8 });
        await using var service = await ServiceProcess.StartAsync(environment, simulator.BaseAddress, simulator.Options.ApiKey, new Dictionary<string, string>
        {
            ["Generation__FirstCheckAfter"] = "00:00:00.500",
            ["Generation__MinCheckInterval"] = "00:00:00.200",
            ["Generation__MaxCheckInterval"] = "00:00:01",
        });

        var (status, outcome) = await VideoClient.GenerateAsync(environment.RabbitMq, Images.Base64Png(), "a client team's first video").WaitAsync(TimeSpan.FromMinutes(2));

        var ready = Assert.IsType<VideoReady>(outcome);
        // The query answered for the example's own request (at whatever stage it was then).
        Assert.Equal(status.RequestId, ready.RequestId);
        Assert.True(Enum.IsDefined(status.State), $"state {status.State}");
        Assert.StartsWith(simulator.BaseAddress.ToString(), ready.VideoUrl, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"// <client-example>\n(?<code>.*)// </client-example>", RegexOptions.Singleline)]
    private static partial Regex FileExample();
}
