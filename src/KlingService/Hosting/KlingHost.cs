using Microsoft.Extensions.Configuration.Memory;
using KlingService.Telemetry;
using MassTransit;

namespace KlingService.Hosting;

/// <summary>
/// The service's host, built the same way for the long-running service, the demo and the tests;
/// <c>configure</c> lets the demo and the tests add what only they need (an in-memory exporter).
/// </summary>
public static class KlingHost
{
    public static async Task<(WebApplication App, IAsyncDisposable? Simulator)> BuildAsync(
        string[] args,
        IDictionary<string, string?>? overrides = null,
        Action<WebApplicationBuilder>? configure = null,
        CancellationToken cancellationToken = default)
    {
        // appsettings.json sits beside the binary: found whatever the working directory (dotnet run,
        // `dotnet KlingService.dll` from elsewhere, a container).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        // Below every other source, so an operator can still turn them on: without it each health probe
        // (every few seconds from an orchestrator) writes four Information lines of request logging.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = [new("Logging:LogLevel:Microsoft.AspNetCore", "Warning")],
        });
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        var healthUrls = HealthAddress.From(builder.Configuration);
        HealthAddress.EnsureFree(healthUrls);
        builder.WebHost.UseUrls(healthUrls);
        var simulator = await EmbeddedSimulator.StartWhenNoApiKeyAsync(builder, cancellationToken);

        var infrastructure = Infrastructure.From(builder.Configuration);
        builder.AddKlingTelemetry();
        builder.Services.AddKlingService(builder.Configuration, infrastructure);
        builder.Services.AddKlingHealthChecks(infrastructure);
        builder.Services.AddMassTransit(bus => bus.AddKlingBus(infrastructure));
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapKlingHealth();
        return (app, simulator);
    }
}
