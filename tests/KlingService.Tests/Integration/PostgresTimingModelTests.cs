using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Persistence;
using KlingService.Tests.Fixtures;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace KlingService.Tests.Integration;

/// <summary>The timing model shared by instances through PostgreSQL, on a real server.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class PostgresTimingModelTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    private readonly GenerationOptions _options = new() { TimingRefresh = TimeSpan.FromSeconds(5) };

    private NpgsqlDataSource _first = null!;

    private NpgsqlDataSource _second = null!;

    public async Task InitializeAsync()
    {
        var environment = await infrastructure.CreateEnvironmentAsync();
        // Two data sources: two instances, each with its own pool and cache.
        _first = NpgsqlDataSource.Create(environment.Postgres);
        _second = NpgsqlDataSource.Create(environment.Postgres);
        await PostgresSchema.EnsureCreatedAsync(_first, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
    }

    private PostgresJobTimingModel Instance(NpgsqlDataSource database, TimeProvider time) => new(database, Options.Create(_options), time);

    private static TimingObservation Job(int i) =>
        new(VideoMode.Professional, 10, 95 + (i % 10), 96 + (i % 10), 70, 25, LastEtaSeconds: 70);

    [Fact]
    public async Task Instances_finishing_jobs_together_lose_none_of_them()
    {
        var first = Instance(_first, TimeProvider.System);
        var second = Instance(_second, TimeProvider.System);

        await Task.WhenAll(Enumerable.Range(0, 100).SelectMany(i => new[]
        {
            first.RecordAsync(Job(i), CancellationToken.None),
            second.RecordAsync(Job(i), CancellationToken.None),
        }));

        // Each job makes the older ones weigh d times less and adds one, whatever the order.
        var decay = TimingStatistics.Decay(_options.TimingMemory);
        var expected = (1 - Math.Pow(decay, 200)) / (1 - decay);
        var learned = await Instance(_first, TimeProvider.System).GetAsync(VideoMode.Professional, 10, CancellationToken.None);
        Assert.Equal(expected, learned.Total.Weight, 1e-6);
        Assert.Equal(expected, learned.EtaError.Weight, 1e-6);
        Assert.Equal(TimingStatistics.Cold, await first.GetAsync(VideoMode.Standard, 10, CancellationToken.None));
    }

    [Fact]
    public async Task An_instance_sees_what_another_learned_once_its_copy_is_older_than_the_refresh()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var reader = Instance(_second, time);
        Assert.Equal(TimingStatistics.Cold, await reader.GetAsync(VideoMode.Professional, 10, CancellationToken.None));

        await Instance(_first, TimeProvider.System).RecordAsync(Job(1), CancellationToken.None);

        // Status checks read the copy: no query each, and a few seconds late at most.
        Assert.Equal(TimingStatistics.Cold, await reader.GetAsync(VideoMode.Professional, 10, CancellationToken.None));
        time.Advance(_options.TimingRefresh);
        Assert.Equal(1, (await reader.GetAsync(VideoMode.Professional, 10, CancellationToken.None)).Total.Weight, 1e-9);
    }
}
