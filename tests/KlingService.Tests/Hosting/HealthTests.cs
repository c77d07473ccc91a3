using System.Net;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Hosting;

public sealed class HealthTests
{
    [Fact]
    public async Task Reports_live_and_ready_once_the_bus_is_up()
    {
        await using var service = await EmbeddedService.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(service.App.Urls.First()) };

        var live = await http.GetAsync("/health/live");
        var ready = await WaitForReadyAsync(http);

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready);
    }

    [Fact]
    public async Task Health_probes_write_no_information_lines()
    {
        await using var service = await EmbeddedService.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(service.App.Urls.First()) };
        Assert.Equal(HttpStatusCode.OK, await WaitForReadyAsync(http));
        var before = service.Logs.Lines.Count;

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
        }

        var written = service.Logs.Lines.Skip(before)
            .Where(line => !line.StartsWith("scope:", StringComparison.Ordinal) && line.Contains("/health/", StringComparison.Ordinal))
            .ToList();
        Assert.True(written.Count == 0, string.Join(Environment.NewLine, written));
    }

    private static async Task<HttpStatusCode> WaitForReadyAsync(HttpClient http)
    {
        var giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        HttpStatusCode status;
        while ((status = (await http.GetAsync("/health/ready")).StatusCode) != HttpStatusCode.OK && DateTime.UtcNow < giveUp)
        {
            await Task.Delay(100);
        }

        return status;
    }
}
