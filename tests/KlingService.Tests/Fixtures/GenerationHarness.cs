using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Hosting;
using KlingService.Jobs;
using KlingService.Kling;
using MassTransit;
using MassTransit.InMemoryTransport;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace KlingService.Tests.Fixtures;

/// <summary>
/// The service's real bus wiring on MassTransit's test harness, with a scripted provider and a clock
/// that tests move by hand. One per scenario.
/// </summary>
public sealed class GenerationHarness : IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private readonly IReadOnlyList<IHostedService> _background;

    private GenerationHarness(ServiceProvider provider, FakeKlingApi kling, FakeTimeProvider time)
    {
        _provider = provider;
        // The harness starts the bus only; the launcher and the record cleanup are hosted services.
        _background = [.. provider.GetServices<IHostedService>().Where(s => s is TaskLauncher or JobRecordCleanup)];
        Kling = kling;
        Time = time;
        Harness = provider.GetRequiredService<ITestHarness>();
    }

    public ITestHarness Harness { get; }

    public FakeKlingApi Kling { get; }

    public FakeTimeProvider Time { get; }

    public IServiceProvider Services => _provider;

    public static async Task<GenerationHarness> StartAsync(IDictionary<string, string?>? settings = null, Action<IServiceCollection>? configure = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Kling:BaseUrl"] = "http://kling.invalid",
                ["Kling:ApiKey"] = "test-key",
                // The fake API's video URLs lead nowhere; storage has its own tests against the simulator.
                ["Storage:Kind"] = "None",
            })
            .AddInMemoryCollection(settings ?? new Dictionary<string, string?>())
            .Build();
        var kling = new FakeKlingApi();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(time);
        var infrastructure = Infrastructure.From(configuration);
        services.AddKlingService(configuration, infrastructure);
        services.AddSingleton<IKlingApi>(kling);
        configure?.Invoke(services);
        services.AddMassTransitTestHarness(bus => bus.AddKlingBus(infrastructure));

        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var harness = new GenerationHarness(provider, kling, time);
        harness.Harness.TestTimeout = TimeSpan.FromSeconds(20);
        harness.Harness.TestInactivityTimeout = TimeSpan.FromSeconds(2);
        await harness.Harness.Start();
        foreach (var service in harness._background)
        {
            await service.StartAsync(CancellationToken.None);
        }

        return harness;
    }

    public static GenerateVideo ValidCommand(Guid? requestId = null) => new(
        requestId ?? Guid.NewGuid(), Images.Base64Png(), "A red fox running through snow", VideoMode.Professional, 10, 0.5, "blur");

    public async Task SendAsync(GenerateVideo command)
    {
        var endpoint = await Harness.Bus.GetSendEndpoint(new Uri($"queue:{GenerateVideoConsumerDefinition.QueueName}"));
        await endpoint.Send(command);
    }

    /// <summary>Moves the service's clock and the transport's scheduler together.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        Time.Advance(by);
        await _provider.GetRequiredService<IInMemoryDelayProvider>().Advance(by);
    }

    /// <summary>Waits for the first published event of a type matching the filter; fails the test when none comes.</summary>
    public async Task<T> PublishedAsync<T>(Func<T, bool>? filter = null)
        where T : class
    {
        var found = await Harness.Published
            .SelectAsync<T>(m => filter is null || filter(m.Context.Message))
            .FirstOrDefault();
        Assert.True(found is not null, $"No {typeof(T).Name} was published within the harness timeout.");
        return found.Context.Message;
    }

    /// <summary>
    /// Polls for an event of a type on the real clock. For events that follow work the harness does
    /// not see (a launcher's call finishing): once the bus has been quiet past its inactivity timeout,
    /// <see cref="PublishedAsync{T}"/> answers at once with what is there.
    /// </summary>
    public async Task<T> EventuallyPublishedAsync<T>(Func<T, bool>? filter = null, TimeSpan? timeout = null)
        where T : class
    {
        var giveUp = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (DateTime.UtcNow < giveUp)
        {
            if (Published(filter).FirstOrDefault() is { } found)
            {
                return found;
            }

            await Task.Delay(20);
        }

        Assert.Fail($"No {typeof(T).Name} was published within {timeout ?? TimeSpan.FromSeconds(20)}.");
        return null!;
    }

    /// <summary>
    /// Moves the clock in steps until an event of type T is published. After each step it waits,
    /// briefly, for the service to handle whatever came due, so steps never outrun the service.
    /// </summary>
    public async Task<T> AdvanceUntilPublishedAsync<T>(TimeSpan step, TimeSpan? budget = null, Func<T, bool>? filter = null)
        where T : class
    {
        var limit = budget ?? TimeSpan.FromHours(2);
        for (var elapsed = TimeSpan.Zero; elapsed <= limit; elapsed += step)
        {
            if (Published(filter).FirstOrDefault() is { } found)
            {
                return found;
            }

            await AdvanceAndSettleAsync(step);
        }

        return await PublishedAsync(filter);
    }

    /// <summary>Advances the clock and waits (bounded) until the service has consumed what came due.</summary>
    public async Task AdvanceAndSettleAsync(TimeSpan step)
    {
        var consumedBefore = Harness.Consumed.Select(_ => true).Count();
        await AdvanceAsync(step);
        var giveUp = DateTime.UtcNow + TimeSpan.FromMilliseconds(300);
        while (Harness.Consumed.Select(_ => true).Count() == consumedBefore && DateTime.UtcNow < giveUp)
        {
            await Task.Delay(5);
        }
    }

    /// <summary>Events of a type published so far.</summary>
    public IReadOnlyList<T> Published<T>(Func<T, bool>? filter = null)
        where T : class =>
        Harness.Published.Select<T>().Select(m => m.Context.Message).Where(m => filter is null || filter(m)).ToList();

    /// <summary>Asks the service about a request, as a client does with the status query.</summary>
    public async Task<VideoJobStatus> StatusAsync(Guid requestId) =>
        (await Harness.GetRequestClient<GetVideoJob>().GetResponse<VideoJobStatus>(new GetVideoJob(requestId))).Message;

    public ISagaStateMachineTestHarness<VideoJobStateMachine, VideoJobState> Saga =>
        Harness.GetSagaStateMachineHarness<VideoJobStateMachine, VideoJobState>();

    public async ValueTask DisposeAsync()
    {
        foreach (var service in _background)
        {
            await service.StopAsync(CancellationToken.None);
        }

        await Harness.Stop();
        await _provider.DisposeAsync();
    }
}
