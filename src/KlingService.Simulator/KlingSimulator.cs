namespace KlingService.Simulator;

/// <summary>Builds the simulator as a web app, standalone or inside another process on a loopback port.</summary>
public static class KlingSimulator
{
    public static WebApplication Build(SimulatorOptions options, string[]? args = null, TimeProvider? time = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(time ?? TimeProvider.System);
        builder.Services.AddSingleton<TaskBoard>();
        var app = builder.Build();
        app.UseMiddleware<FaultInjection>();
        app.MapSimulator();
        return app;
    }

    /// <summary>Starts a simulator on a free loopback port; dispose it to stop.</summary>
    public static async Task<RunningSimulator> StartAsync(SimulatorOptions options, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        var app = Build(options, ["--urls", "http://127.0.0.1:0"], time);
        await app.StartAsync(cancellationToken);
        var address = new Uri(app.Urls.First());
        return new RunningSimulator(app, address, app.Services.GetRequiredService<TaskBoard>(), options);
    }
}
