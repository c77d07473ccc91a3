using KlingService.Contracts;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Generation;

/// <summary>
/// A request can say how long it may wait for a slot: past its StartBy (or the service's MaxWait) it ends as
/// StartByPassed with nothing created, instead of waiting without a word behind a full account.
/// </summary>
public sealed class StartByTests
{
    [Fact]
    public async Task A_request_still_waiting_for_a_slot_at_its_StartBy_ends_StartByPassed_and_is_never_created()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?> { ["Kling:MaxConcurrentTasks"] = "1" });
        var running = GenerationHarness.ValidCommand() with { Prompt = "holds the only slot" };
        await service.SendAsync(running);
        await service.PublishedAsync<VideoGenerationSubmitted>(s => s.RequestId == running.RequestId);
        var hurried = GenerationHarness.ValidCommand() with { StartBy = service.Time.GetUtcNow().AddSeconds(30) };
        await service.SendAsync(hurried);
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(1));

        var waiting = await service.StatusAsync(hurried.RequestId);
        var failed = await service.AdvanceUntilPublishedAsync<VideoFailed>(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(2), f => f.RequestId == hurried.RequestId);

        Assert.Equal(JobState.Waiting, waiting.State);
        Assert.Equal(hurried.StartBy, waiting.StartBy);
        Assert.Equal(VideoFailureReason.StartByPassed, failed.Reason);
        Assert.Null(failed.TaskId);
        Assert.Equal(JobState.Failed, (await service.StatusAsync(hurried.RequestId)).State);
        // Only the running job's task was ever created, and the slot it frees later goes to nobody.
        Assert.Single(service.Kling.CreatedTasks);
    }

    [Fact]
    public async Task A_request_whose_StartBy_passed_before_it_arrived_ends_at_once_and_a_repeat_gets_the_same_answer()
    {
        await using var service = await GenerationHarness.StartAsync();
        var late = GenerationHarness.ValidCommand() with { StartBy = service.Time.GetUtcNow().AddSeconds(-1) };

        await service.SendAsync(late);
        var failed = await service.PublishedAsync<VideoFailed>(f => f.RequestId == late.RequestId);
        await service.SendAsync(late);
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(VideoFailureReason.StartByPassed, failed.Reason);
        Assert.Equal(2, service.Published<VideoFailed>(f => f.RequestId == late.RequestId && f.Reason == VideoFailureReason.StartByPassed).Count);
        Assert.Equal(0, service.Kling.CreateAttempts);
    }

    [Fact]
    public async Task Without_a_StartBy_the_service_s_MaxWait_bounds_the_wait_and_a_sooner_StartBy_wins()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Kling:MaxConcurrentTasks"] = "1",
            ["Generation:MaxWait"] = "00:02:00",
        });
        var running = GenerationHarness.ValidCommand() with { Prompt = "holds the only slot" };
        await service.SendAsync(running);
        await service.PublishedAsync<VideoGenerationSubmitted>(s => s.RequestId == running.RequestId);
        var admittedAt = service.Time.GetUtcNow();
        var patient = GenerationHarness.ValidCommand() with { Prompt = "no StartBy" };
        var sooner = GenerationHarness.ValidCommand() with { Prompt = "its own StartBy", StartBy = admittedAt.AddSeconds(20) };
        var later = GenerationHarness.ValidCommand() with { Prompt = "a StartBy past MaxWait", StartBy = admittedAt.AddHours(1) };
        foreach (var command in new[] { patient, sooner, later })
        {
            await service.SendAsync(command);
        }

        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(sooner.StartBy, (await service.StatusAsync(sooner.RequestId)).StartBy);
        Assert.Equal(admittedAt + TimeSpan.FromMinutes(2), (await service.StatusAsync(later.RequestId)).StartBy);

        var first = await service.AdvanceUntilPublishedAsync<VideoFailed>(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), f => f.RequestId == sooner.RequestId);
        var firstAt = service.Time.GetUtcNow();
        await service.AdvanceUntilPublishedAsync<VideoFailed>(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), f => f.RequestId == later.RequestId);
        await service.AdvanceUntilPublishedAsync<VideoFailed>(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), f => f.RequestId == patient.RequestId);

        Assert.Equal(VideoFailureReason.StartByPassed, first.Reason);
        Assert.True(firstAt - admittedAt < TimeSpan.FromMinutes(1), $"The sooner StartBy ended its request after {firstAt - admittedAt}.");
        Assert.All(service.Published<VideoFailed>(f => f.RequestId != running.RequestId), f => Assert.Equal(VideoFailureReason.StartByPassed, f.Reason));
        Assert.True(service.Time.GetUtcNow() - admittedAt >= TimeSpan.FromMinutes(2), "MaxWait ended a request before it was over.");
        Assert.Single(service.Kling.CreatedTasks);
    }
}
