using KlingService.Generation;
using Microsoft.Extensions.Options;

namespace KlingService.Tests.Generation;

public sealed class StatusCheckPolicyTests
{
    private readonly StatusCheckPolicy _policy = new(Options.Create(new GenerationOptions
    {
        FirstCheckAfter = TimeSpan.FromSeconds(15),
        MinCheckInterval = TimeSpan.FromSeconds(2),
        MaxCheckInterval = TimeSpan.FromSeconds(60),
        CheckBackoffFactor = 2,
        EtaSlack = TimeSpan.FromSeconds(1),
    }));

    [Fact]
    public void Waits_a_short_eta_in_full_and_looks_just_after_it() =>
        Assert.Equal(TimeSpan.FromSeconds(9), _policy.NextCheck(new VideoJobState { EtaSeconds = 8, ChecksMade = 3 }));

    [Fact]
    public void Looks_again_after_part_of_a_long_eta_in_case_the_estimate_is_late() =>
        Assert.Equal(TimeSpan.FromSeconds(28), _policy.NextCheck(new VideoJobState { EtaSeconds = 40, ChecksMade = 3 }));

    [Fact]
    public void Never_waits_longer_than_the_cap_even_for_a_long_eta() =>
        Assert.Equal(TimeSpan.FromSeconds(60), _policy.NextCheck(new VideoJobState { EtaSeconds = 600 }));

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    public void Polls_at_a_steady_interval_without_an_eta(int checksMade) =>
        Assert.Equal(TimeSpan.FromSeconds(10), _policy.NextCheck(new VideoJobState { ChecksMade = checksMade }));

    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 8)]
    [InlineData(4, 32)]
    [InlineData(10, 60)]
    public void Backs_off_geometrically_after_failed_checks_even_when_an_eta_is_known(int failures, int expectedSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), _policy.NextCheck(new VideoJobState { EtaSeconds = 1, ConsecutiveCheckFailures = failures }));
}
