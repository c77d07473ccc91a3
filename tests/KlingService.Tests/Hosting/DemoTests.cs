using KlingService.Contracts;
using KlingService.Demo;

namespace KlingService.Tests.Hosting;

/// <summary>The README's demo: the real host on embedded defaults, the simulator over HTTP.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task The_demo_generates_a_video_and_exits_zero()
    {
        var exitCode = await DemoRunner.RunAsync(new DemoSettings(null, "a paper boat on a pond", VideoMode.Standard, 5), CancellationToken.None);

        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task The_demo_exits_non_zero_when_the_generation_fails()
    {
        var exitCode = await DemoRunner.RunAsync(new DemoSettings(null, "[fail] a paper boat", VideoMode.Standard, 5), CancellationToken.None);

        Assert.NotEqual(0, exitCode);
    }

    [Fact]
    public async Task The_demo_exits_non_zero_for_an_invalid_request_without_creating_a_task()
    {
        var exitCode = await DemoRunner.RunAsync(new DemoSettings(null, "a paper boat", VideoMode.Standard, 7), CancellationToken.None);

        Assert.NotEqual(0, exitCode);
    }
}
