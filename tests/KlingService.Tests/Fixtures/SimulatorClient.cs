using KlingService.Kling;
using KlingService.Simulator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace KlingService.Tests.Fixtures;

/// <summary>The service's real Refit client talking to a simulator on a loopback socket, on a clock the test moves.</summary>
public sealed class SimulatorClient : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    private SimulatorClient(RunningSimulator simulator, ServiceProvider provider, FakeTimeProvider time)
    {
        Simulator = simulator;
        _provider = provider;
        Time = time;
        Api = provider.GetRequiredService<IKlingApi>();
    }

    public RunningSimulator Simulator { get; }

    public IKlingApi Api { get; }

    public FakeTimeProvider Time { get; }

    public HttpClient Http { get; } = new();

    // realTime: the simulator on the real clock, for faults that must outlast the client's real timeouts.
    public static async Task<SimulatorClient> StartAsync(
        SimulatorOptions? options = null, string? apiKey = null, TimeSpan? requestTimeout = null, TimeSpan? createTimeout = null, bool realTime = false)
    {
        options ??= new SimulatorOptions { QueueSeconds = 2, ProcessingSeconds = 10 };
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var simulator = await KlingSimulator.StartAsync(options, realTime ? TimeProvider.System : time);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kling:BaseUrl"] = simulator.BaseAddress.ToString(),
            ["Kling:ApiKey"] = apiKey ?? options.ApiKey,
            ["Kling:RequestTimeout"] = (requestTimeout ?? TimeSpan.FromSeconds(10)).ToString(),
            ["Kling:CreateTimeout"] = (createTimeout ?? TimeSpan.FromSeconds(10)).ToString(),
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddKlingClient(configuration);
        return new SimulatorClient(simulator, services.BuildServiceProvider(), time);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _provider.DisposeAsync();
        await Simulator.DisposeAsync();
    }
}
