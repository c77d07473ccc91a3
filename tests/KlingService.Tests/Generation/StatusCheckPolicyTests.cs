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
    public void Aims_just_past_the_providers_eta() =>
        Assert.Equal(TimeSpan.FromSeconds(41), _policy.NextCheck(new VideoJobState { EtaSeconds = 40, ChecksMade = 3 }));

    [Fact]
    public void Never_waits_longer_than_the_cap_even_for_a_long_eta() =>
        Assert.Equal(TimeSpan.FromSeconds(60), _policy.NextCheck(new VideoJobState { EtaSeconds = 600 }));

    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 8)]
    [InlineData(4, 32)]
    [InlineData(10, 60)]
    public void Backs_off_geometrically_without_an_eta(int checksMade, int expectedSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), _policy.NextCheck(new VideoJobState { ChecksMade = checksMade }));

    [Fact]
    public void Backs_off_after_failed_checks_even_when_an_eta_is_known() =>
        Assert.Equal(TimeSpan.FromSeconds(8), _policy.NextCheck(new VideoJobState { EtaSeconds = 1, ConsecutiveCheckFailures = 2 }));
}
