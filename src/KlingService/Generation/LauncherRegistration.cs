namespace KlingService.Generation;

public static class LauncherRegistration
{
    /// <summary>The task launcher and its parts: one create attempt, claim renewal, the sweeps of the backlog.</summary>
    public static IServiceCollection AddTaskLauncher(this IServiceCollection services)
    {
        services.AddSingleton<InFlightClaims>();
        services.AddSingleton<ClaimRenewal>();
        services.AddSingleton<AnnouncementPublisher>();
        services.AddSingleton<CreatedTaskRecorder>();
        services.AddSingleton<CreateAttempt>();
        services.AddSingleton<WaitingRequestSweeps>();
        services.AddHostedService<TaskLauncher>();
        return services;
    }
}
