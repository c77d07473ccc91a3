using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace KlingService.Telemetry;

public static class TelemetryRegistration
{
    /// <summary>
    /// One trace per job (MassTransit's spans, the HttpClient's and ours), the service's and
    /// MassTransit's meters, and logs that carry trace and span ids. Exported over OTLP when the
    /// standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
    /// </summary>
    public static IHostApplicationBuilder AddKlingTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        builder.Logging.AddSimpleConsole(o => o.IncludeScopes = true);
        builder.Logging.AddOpenTelemetry(o =>
        {
            o.IncludeFormattedMessage = true;
            o.IncludeScopes = true;
        });

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? "kling-service"))
            .WithTracing(tracing => tracing
                .AddSource(KlingTelemetry.SourceName, KlingTelemetry.MassTransitSource)
                // Only what identifies a call: never headers (the key) or bodies (image data).
                .AddHttpClientInstrumentation(http => http.RecordException = false))
            .WithMetrics(metrics => metrics
                .AddMeter(KlingTelemetry.MeterName, KlingTelemetry.MassTransitSource)
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry.UseOtlpExporter();
        }

        return builder;
    }
}
