using System.Net;
using System.Net.Sockets;

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

    /// <summary>
    /// Starts a simulator on <paramref name="listen"/> (a free loopback port when null); dispose it to stop. With a
    /// <see cref="SimulatorOptions.Connections"/> mode other than keep-alive, a <see cref="ConnectionFront"/> takes that
    /// address and the simulator itself listens on a loopback port behind it.
    /// </summary>
    public static async Task<RunningSimulator> StartAsync(
        SimulatorOptions options, TimeProvider? time = null, CancellationToken cancellationToken = default, IPEndPoint? listen = null)
    {
        listen ??= new IPEndPoint(IPAddress.Loopback, 0);
        var fronted = options.Connections != ConnectionMode.KeepAlive;
        var own = fronted ? new IPEndPoint(IPAddress.Loopback, 0) : listen;
        var app = Build(options, ["--urls", $"http://{(own.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{own.Address}]" : own.Address)}:{own.Port}"], time);
        await app.StartAsync(cancellationToken);
        var address = new Uri(app.Urls.First());
        var front = fronted ? ConnectionFront.Start(listen, new IPEndPoint(IPAddress.Parse(address.Host), address.Port), options) : null;
        return new RunningSimulator(app, front?.Address ?? address, app.Services.GetRequiredService<TaskBoard>(), options, front);
    }
}
