using Microsoft.Extensions.Options;
using Refit;

namespace KlingService.Kling;

public static class KlingClientRegistration
{
    /// <summary>Registers <see cref="IKlingApi"/> with its key, error classification and timeout, from the <c>Kling</c> section.</summary>
    public static IServiceCollection AddKlingClient(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<KlingOptions>()
            .Bind(configuration.GetSection(KlingOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(o => o.BaseUrl is { IsAbsoluteUri: true } url && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps),
                "Kling:BaseUrl must be an absolute http(s) URL.")
            .ValidateOnStart();

        services.AddTransient<BearerTokenHandler>();
        services.AddTransient<KlingErrorHandler>();
        services.AddRefitGeneratedClient<IKlingApi>(KlingJsonContext.Default)
            .ConfigureHttpClient((provider, client) =>
            {
                var options = provider.GetRequiredService<IOptions<KlingOptions>>().Value;
                client.BaseAddress = options.BaseUrl;
                client.Timeout = options.RequestTimeout;
            })
            .AddHttpMessageHandler<KlingErrorHandler>()
            .AddHttpMessageHandler<BearerTokenHandler>()
            // The default logging handlers write request URLs and headers' names; none carry the key, but keep it quiet anyway.
            .RemoveAllLoggers();

        return services;
    }
}
