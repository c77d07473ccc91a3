using KlingService.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace KlingService.Tests.Hosting;

/// <summary>Bad configuration stops the service at start with one message naming the key.</summary>
public sealed class ConfigurationTests
{
    [Fact]
    public void RabbitMq_without_Postgres_is_refused_with_the_reason()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Infrastructure.From(Configuration(("ConnectionStrings:RabbitMq", "amqp://guest:guest@localhost:5672/"))));

        Assert.Contains("ConnectionStrings:Postgres", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_RabbitMq_url_that_is_not_amqp_is_refused() =>
        Assert.Contains("amqp://", Assert.Throws<InvalidOperationException>(() =>
            Infrastructure.From(Configuration(("ConnectionStrings:RabbitMq", "http://localhost:15672"), ("ConnectionStrings:Postgres", "Host=db")))).Message, StringComparison.Ordinal);

    [Fact]
    public void No_connection_strings_means_the_embedded_mode()
    {
        var infrastructure = Infrastructure.From(Configuration());

        Assert.Null(infrastructure.RabbitMq);
        Assert.False(infrastructure.IsDurable);
    }

    [Fact]
    public async Task An_invalid_option_stops_the_host_at_start_naming_the_key()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            var (app, simulator) = await KlingHost.BuildAsync([], new Dictionary<string, string?>
            {
                ["Health:Urls"] = "http://127.0.0.1:0",
                ["Generation:MinCheckInterval"] = "00:05:00",
                ["Generation:MaxCheckInterval"] = "00:00:10",
            });
            await using var simulatorLifetime = simulator;
            await using var appLifetime = app;
            await app.StartAsync();
        });

        Assert.Contains("Generation:MinCheckInterval", error.Message, StringComparison.Ordinal);
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
}
