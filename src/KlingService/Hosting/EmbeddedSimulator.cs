using KlingService.Kling;
using KlingService.Simulator;

namespace KlingService.Hosting;

public static class EmbeddedSimulator
{
    /// <summary>
    /// Starts the simulator on a loopback port and points the client at it over real HTTP, but only
    /// where it cannot mislead a client: when nothing is configured (no key, no broker, no database:
    /// a local run or the demo) or when <c>Kling:UseSimulator=true</c> asks for it. A deployment with
    /// a broker or a database and no key is refused at start instead of answering real clients with
    /// sample videos. Returns null when the provider is used.
    /// </summary>
    public static async Task<RunningSimulator?> StartWhenNoApiKeyAsync(IHostApplicationBuilder builder, CancellationToken cancellationToken = default)
    {
        var configuration = builder.Configuration;
        var useSimulator = configuration.GetValue<bool>($"{KlingOptions.SectionName}:{nameof(KlingOptions.UseSimulator)}");
        var hasKey = !string.IsNullOrEmpty(configuration[$"{KlingOptions.SectionName}:{nameof(KlingOptions.ApiKey)}"]);
        var deployed = !string.IsNullOrWhiteSpace(configuration.GetConnectionString("RabbitMq"))
            || !string.IsNullOrWhiteSpace(configuration.GetConnectionString("Postgres"))
            || !string.IsNullOrWhiteSpace(configuration[$"{KlingOptions.SectionName}:{nameof(KlingOptions.BaseUrl)}"]);
        if (!useSimulator && (hasKey || deployed))
        {
            return hasKey ? null : throw new StartupException(
                $"{KlingOptions.SectionName}:{nameof(KlingOptions.ApiKey)} is not set: a deployment with a broker, a database or a provider URL needs the provider's key "
                + $"(environment Kling__ApiKey), or {KlingOptions.SectionName}:{nameof(KlingOptions.UseSimulator)}=true to run on the simulator on purpose.");
        }

        var options = configuration.GetSection(SimulatorOptions.SectionName).Get<SimulatorOptions>() ?? new SimulatorOptions();
        var simulator = await KlingSimulator.StartAsync(options, cancellationToken: cancellationToken);
        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"{KlingOptions.SectionName}:{nameof(KlingOptions.BaseUrl)}"] = simulator.BaseAddress.ToString(),
            [$"{KlingOptions.SectionName}:{nameof(KlingOptions.ApiKey)}"] = options.ApiKey,
        });
        return simulator;
    }
}
