using System.Diagnostics;
using KlingService.Outbox;
using KlingService.TestHooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

/// <summary>
/// Runs before the service's Main when its process is started with <c>DOTNET_STARTUP_HOOKS</c> naming this assembly (the
/// runtime looks for this type, outside any namespace). It watches for the service's host being built and registers a
/// <see cref="CrashingCommitObserver"/> over the service's own, so nothing of it is in the production assembly.
/// </summary>
internal static class StartupHook
{
    public static void Initialize() => DiagnosticListener.AllListeners.Subscribe(new HostBuildingObserver(CrashingCommitObserver.FromEnvironment()));

    /// <summary>The hosting library announces each host it is about to build ("HostBuilding"), while services can still be added.</summary>
    private sealed class HostBuildingObserver(ICommitObserver observer) : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
    {
        public void OnNext(DiagnosticListener listener)
        {
            if (listener.Name == "Microsoft.Extensions.Hosting")
            {
                listener.Subscribe(this);
            }
        }

        public void OnNext(KeyValuePair<string, object?> value)
        {
            // The web host's builder announces itself through an IHostBuilder adapter whose changes it applies next.
            if (value is { Key: "HostBuilding", Value: IHostBuilder builder })
            {
                builder.ConfigureServices(services => services.AddSingleton(observer));
            }
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }
    }
}
