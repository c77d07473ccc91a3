using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Persistence;
using KlingService.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace KlingService.Tests.Generation;

/// <summary>The saga teaches the timing model and plans its checks from it (embedded mode: the in-memory model).</summary>
public sealed class SagaTimingTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_job_that_succeeds_teaches_the_model_its_time_and_its_eta()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(
            id => FakeKlingApi.Processing(id, 40, eta: 20),
            id => FakeKlingApi.Succeeded(id));
        var command = GenerationHarness.ValidCommand();

        await service.SendAsync(command);
        await service.AdvanceUntilPublishedAsync<VideoReady>(Step);

        var learned = await service.Services.GetRequiredService<IJobTimingModel>().GetAsync(command.Mode, command.DurationSeconds, CancellationToken.None);
        Assert.Equal(1, learned.Total.Weight, 0.001);
        Assert.Equal(1, learned.EtaError.Weight, 0.001);
        // Seen running at 15 s with 20 s to go, found done at 29 s (15 + 70 % of the eta): done by then.
        Assert.InRange(Math.Exp(learned.Total.Mean), 15, 29.01);
    }

    [Fact]
    public async Task A_job_that_fails_teaches_the_model_nothing()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(
            id => FakeKlingApi.Processing(id, 40, eta: 20),
            id => FakeKlingApi.Failed(id, "content policy"));
        var command = GenerationHarness.ValidCommand();

        await service.SendAsync(command);
        await service.AdvanceUntilPublishedAsync<VideoFailed>(Step);

        var learned = await service.Services.GetRequiredService<IJobTimingModel>().GetAsync(command.Mode, command.DurationSeconds, CancellationToken.None);
        Assert.Equal(TimingStatistics.Cold, learned);
    }

    [Fact]
    public async Task With_a_warm_model_the_first_check_comes_where_jobs_like_it_start_to_finish()
    {
        await using var service = await GenerationHarness.StartAsync();
        var command = GenerationHarness.ValidCommand();
        var model = (InMemoryJobTimingModel)service.Services.GetRequiredService<IJobTimingModel>();
        for (var i = 0; i < 50; i++)
        {
            // Jobs of this kind took 90 to 110 s.
            model.Record(new TimingObservation(command.Mode, command.DurationSeconds, 90 + (i % 21) - 0.5, 90 + (i % 21), null, null));
        }

        service.Kling.ScriptStatuses(id => FakeKlingApi.Succeeded(id));
        await service.SendAsync(command);
        await service.PublishedAsync<VideoGenerationSubmitted>();
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(60));

        // Before it learned, the first check came at 15 s; now none is made where no job ever finished.
        Assert.Equal(0, service.Kling.StatusCalls);
        await service.AdvanceUntilPublishedAsync<VideoReady>(Step, TimeSpan.FromSeconds(60));
        Assert.Equal(1, service.Kling.StatusCalls);
    }
}
