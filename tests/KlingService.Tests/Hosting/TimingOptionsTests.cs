using KlingService.Generation;
using KlingService.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace KlingService.Tests.Hosting;

/// <summary>The timing model's settings are checked at start, and a bad one is refused naming its key.</summary>
public sealed class TimingOptionsTests
{
    [Theory]
    [InlineData("TimingWarmAfter", "200", "Generation:TimingWarmAfter")] // never reached: the model's weight stays below its memory
    [InlineData("TimingMemory", "5", "TimingMemory")]
    [InlineData("AimConfidence", "1", "AimConfidence")]
    [InlineData("ProbeShare", "1.5", "ProbeShare")]
    [InlineData("MaxAimedCheckInterval", "00:00:01", "Generation:MaxAimedCheckInterval")] // below MinCheckInterval
    public async Task A_setting_the_model_could_not_work_with_stops_the_host_naming_it(string key, string value, string named)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => ReadAsync(key, value));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_defaults_are_accepted() =>
        Assert.Equal(200, (await ReadAsync("TimingMemory", "200")).TimingMemory);

    private static async Task<GenerationOptions> ReadAsync(string key, string value)
    {
        var (app, simulator) = await KlingHost.BuildAsync([], new Dictionary<string, string?>
        {
            ["Health:Urls"] = "http://127.0.0.1:0",
            ["Kling:ApiKey"] = "test-key",
            ["Kling:BaseUrl"] = "http://127.0.0.1:1/",
            [$"Generation:{key}"] = value,
        });
        await using var simulatorLifetime = simulator;
        await using var appLifetime = app;
        return app.Services.GetRequiredService<IOptions<GenerationOptions>>().Value;
    }
}
