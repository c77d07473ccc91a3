using KlingService.Kling;
using KlingService.Simulator;

namespace KlingService.Hosting;

public static class EmbeddedSimulator
{
    /// <summary>
    /// With no API key configured there is no account to spend: start the simulator on a loopback
    /// port and point the client at it over real HTTP. Returns null when a key is configured.
    /// </summary>
    public static async Task<RunningSimulator?> StartWhenNoApiKeyAsync(IHostApplicationBuilder builder, CancellationToken cancellationToken = default)
    {
        if (!string.IsNullOrEmpty(builder.Configuration[$"{KlingOptions.SectionName}:{nameof(KlingOptions.ApiKey)}"]))
        {
            return null;
        }

        var options = builder.Configuration.GetSection(SimulatorOptions.SectionName).Get<SimulatorOptions>() ?? new SimulatorOptions();
        var simulator = await KlingSimulator.StartAsync(options, cancellationToken: cancellationToken);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"{KlingOptions.SectionName}:{nameof(KlingOptions.BaseUrl)}"] = simulator.BaseAddress.ToString(),
            [$"{KlingOptions.SectionName}:{nameof(KlingOptions.ApiKey)}"] = options.ApiKey,
        });
        return simulator;
    }
}
