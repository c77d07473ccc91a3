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
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        builder.WebHost.UseUrls(builder.Configuration["Health:Urls"] ?? "http://127.0.0.1:8081");
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
