namespace KlingService.Simulator;

/// <summary>How the simulator's connections behave (see <see cref="SimulatorOptions.Connections"/>).</summary>
public enum ConnectionMode
{
    /// <summary>HTTP/1.1 keep-alive, served by Kestrel directly.</summary>
    KeepAlive,

    /// <summary>
    /// Each answer goes out as HTTP/1.0 with a Content-Length and no <c>Connection</c> header, and the server then
    /// closes the connection, as small gateways and some proxies do: a client that hands that connection to its next
    /// request before it noticed the close has the request reset, unanswered.
    /// </summary>
    Http10CloseAfterAnswer,

    /// <summary>
    /// HTTP/1.1 keep-alive, but a connection idle for <see cref="SimulatorOptions.IdleCloseMilliseconds"/> is closed,
    /// as load balancers do; the close takes <see cref="SimulatorOptions.CloseInFlightMilliseconds"/> to reach the client,
    /// as it does across a network, and a request sent meanwhile is reset, unanswered.
    /// </summary>
    IdleClose,
}
