using KlingService.Generation;
using KlingService.Kling;
using KlingService.Persistence;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace KlingService.Hosting;

public static class ServiceRegistration
{
    /// <summary>Everything the consumers and the saga depend on: options, the Kling client, the request ledger.</summary>
    public static IServiceCollection AddKlingService(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddKlingClient(configuration);
        services.AddOptions<GenerationOptions>()
            .Bind(configuration.GetSection(GenerationOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(o => o.MinCheckInterval <= o.MaxCheckInterval, "Generation:MinCheckInterval must not exceed Generation:MaxCheckInterval.")
            .ValidateOnStart();
        services.AddSingleton<StatusCheckPolicy>();
        services.AddScoped<CheckTaskStatusActivity>();
        services.TryAddSingleton<IRequestLedger, InMemoryRequestLedger>();
        return services;
    }
}
