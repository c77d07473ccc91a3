using KlingService.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Refit;

namespace KlingService.Kling;

public static class KlingClientRegistration
{
    private static readonly RefitSettings Settings = CreateSettings();

    /// <summary>Registers <see cref="IKlingApi"/> with its key, error classification and timeout, from the <c>Kling</c> section.</summary>
    public static IServiceCollection AddKlingClient(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<KlingOptions>()
            .Bind(configuration.GetSection(KlingOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(o => o.BaseUrl is { IsAbsoluteUri: true } url && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps),
                "Kling:BaseUrl must be an absolute http(s) URL.")
            .ValidateOnStart();

        services.AddMetrics();
        services.TryAddSingleton<KlingMetrics>();
        services.AddTransient<BearerTokenHandler>();
        services.AddTransient<KlingErrorHandler>();
        services.AddTransient<KlingMetricsHandler>();
        services.AddRefitGeneratedClient<IKlingApi>(KlingJsonContext.Default, _ => Settings)
            .ConfigureHttpClient((provider, client) =>
            {
                var options = provider.GetRequiredService<IOptions<KlingOptions>>().Value;
                client.BaseAddress = options.BaseUrl;
                // KlingErrorHandler bounds each call by its kind (create or status), body included.
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            // A create never rides a pooled connection the provider may already have closed.
            .ConfigurePrimaryHttpMessageHandler(provider => new ProviderConnections(provider.GetRequiredService<IOptions<KlingOptions>>().Value.ConnectTimeout))
            .AddHttpMessageHandler<KlingErrorHandler>()
            .AddHttpMessageHandler<KlingMetricsHandler>()
            .AddHttpMessageHandler<BearerTokenHandler>()
            // The default logging handlers write request URLs and headers' names; none carry the key, but keep it quiet anyway.
            .RemoveAllLoggers();

        return services;
    }

    private static RefitSettings CreateSettings()
    {
        var settings = RefitSettings.ForJsonContext(KlingJsonContext.Default);
        // Refit would wrap transport failures in ApiRequestException, which carries the request and
        // so its Authorization header; surface only our own classified exception instead.
        settings.TransportExceptionFactory = (_, exception, cancellationToken) => exception switch
        {
            OperationCanceledException when cancellationToken.IsCancellationRequested => exception,
            KlingApiException => exception,
            _ => new KlingApiException(KlingErrorKind.Transient, null, $"The Kling API call failed ({exception.GetType().Name}).", delivery: CallDelivery.Unknown),
        };
        settings.DeserializationExceptionFactory = (response, exception) => ValueTask.FromResult<Exception?>(
            // A 200 that cannot be read may still stand for a created task: its outcome is unknown.
            new KlingApiException(KlingErrorKind.Transient, response.StatusCode, $"Kling answered with a body that could not be read ({exception.GetType().Name}).",
                delivery: CallDelivery.Unknown));
        return settings;
    }
}
