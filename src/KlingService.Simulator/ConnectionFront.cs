using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace KlingService.Simulator;

/// <summary>
/// A plain HTTP front on the simulator's address for the connection behaviours Kestrel does not have
/// (<see cref="ConnectionMode"/>): it reads each request whole, relays it to the simulator on a connection
/// of its own, writes the answer back whole in the mode's dialect, and closes connections as the mode says.
/// A caller that hangs up mid-call makes the front hang up on the simulator too, so the simulator sees the
/// same aborted request it would see without the front.
/// </summary>
public sealed class ConnectionFront : IAsyncDisposable
{
    private static readonly string[] HopByHopHeaders = ["Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Content-Length"];

    /// <summary>The front relays whole requests only, as small gateways do: a body without a length is refused, and the connection closed.</summary>
    private static readonly byte[] LengthRequired = Encoding.ASCII.GetBytes(
        "HTTP/1.1 411 Length Required\r\nContent-Type: application/json\r\nContent-Length: 51\r\nConnection: close\r\n\r\n"
        + "{\"code\":411,\"message\":\"Content-Length is required\"}");

    private readonly TcpListener _listener;
    private readonly IPEndPoint _backend;
    private readonly SimulatorOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Socket, byte> _connections = new();
    private readonly Task _accepting;

    private ConnectionFront(IPEndPoint listen, IPEndPoint backend, SimulatorOptions options)
    {
        _listener = new TcpListener(listen);
        _listener.Start();
        _backend = backend;
        _options = options;
        var bound = (IPEndPoint)_listener.LocalEndpoint;
        Address = new Uri($"http://{bound.Address}:{bound.Port}/");
        _accepting = AcceptAsync();
    }

    public Uri Address { get; }

    /// <summary>Starts a front on <paramref name="listen"/> (port 0 picks one) for the simulator listening at <paramref name="backend"/>.</summary>
    public static ConnectionFront Start(IPEndPoint listen, IPEndPoint backend, SimulatorOptions options) => new(listen, backend, options);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        foreach (var socket in _connections.Keys)
        {
            socket.Dispose();
        }

        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            client.NoDelay = true;
            _connections[client] = 0;
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        var inbound = new ConnectionInbound(client, _stopping.Token);
        var reset = true;
        var answered = false;
        try
        {
            while (true)
            {
                if (!await NextRequestArrivesAsync(inbound, keptAlive: answered))
                {
                    // Idle close: anything the client sent while the close was on its way is never answered.
                    reset = inbound.HasUnread;
                    return;
                }

                var request = await inbound.ReadRequestAsync();
                if (request is null)
                {
                    reset = false;
                    return;
                }

                if (request.Length == 0)
                {
                    await client.SendAsync(LengthRequired, SocketFlags.None, _stopping.Token);
                    reset = false;
                    return;
                }

                var answer = await RelayAsync(request, inbound);
                if (answer is null)
                {
                    return;
                }

                await client.SendAsync(Rewrite(answer), SocketFlags.None, _stopping.Token);
                answered = true;
                if (_options.Connections == ConnectionMode.Http10CloseAfterAnswer)
                {
                    reset = false;
                    return;
                }
            }
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException or FormatException)
        {
        }
        finally
        {
            Close(client, reset);
            _connections.TryRemove(client, out _);
        }
    }

    /// <summary>
    /// False when the connection is to be closed: the caller left, or (in <see cref="ConnectionMode.IdleClose"/>) it sat
    /// idle too long after an answer. As with a server's keep-alive timeout, only a connection kept alive after an answer
    /// idles out: a new one waits for its first request (on a busy machine that may take longer than the idle limit).
    /// </summary>
    private async Task<bool> NextRequestArrivesAsync(ConnectionInbound inbound, bool keptAlive)
    {
        var arrival = inbound.WaitForDataAsync();
        if (_options.Connections != ConnectionMode.IdleClose || !keptAlive || arrival.IsCompleted)
        {
            return await arrival;
        }

        var idle = Task.Delay(TimeSpan.FromMilliseconds(_options.IdleCloseMilliseconds), _stopping.Token);
        if (await Task.WhenAny(arrival, idle) == arrival)
        {
            return await arrival;
        }

        // The server has decided to close; its close reaches the client only after a while, as across a network.
        await Task.Delay(TimeSpan.FromMilliseconds(_options.CloseInFlightMilliseconds), _stopping.Token);
        return false;
    }

    /// <summary>The simulator's answer to one request, read to its end; null when the simulator reset the call or the caller left.</summary>
    private async Task<byte[]?> RelayAsync(byte[] request, ConnectionInbound inbound)
    {
        using var backend = new Socket(_backend.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await backend.ConnectAsync(_backend, _stopping.Token);
        // HTTP/1.0 to the simulator: it answers without chunking and ends the answer by closing.
        await backend.SendAsync(AsHttp10(request), SocketFlags.None, _stopping.Token);
        var answer = ReadToEndAsync(backend);
        while (true)
        {
            var received = inbound.ReceiveAsync();
            if (await Task.WhenAny(answer, received) == answer)
            {
                return await answer;
            }

            int read;
            try
            {
                read = await received;
            }
            catch (SocketException)
            {
                read = 0;
            }

            if (read == 0)
            {
                // The caller hung up: hang up on the simulator too, so it records an aborted request.
                Close(backend, reset: true);
                await answer;
                return null;
            }
        }
    }

    private async Task<byte[]?> ReadToEndAsync(Socket backend)
    {
        using var answer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await backend.ReceiveAsync(chunk, SocketFlags.None, _stopping.Token)) > 0)
            {
                answer.Write(chunk, 0, read);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return null;
        }

        var bytes = answer.ToArray();
        return bytes.AsSpan().IndexOf("\r\n\r\n"u8) < 0 ? null : bytes;
    }

    /// <summary>The answer in the mode's dialect: HTTP/1.0 or HTTP/1.1, the body's length stated, no word on the connection.</summary>
    private byte[] Rewrite(byte[] answer)
    {
        var headEnd = answer.AsSpan().IndexOf("\r\n\r\n"u8);
        var lines = Encoding.ASCII.GetString(answer, 0, headEnd).Split("\r\n");
        var body = answer.AsSpan(headEnd + 4);
        var version = _options.Connections == ConnectionMode.Http10CloseAfterAnswer ? "HTTP/1.0" : "HTTP/1.1";
        var head = new StringBuilder();
        head.Append(version).Append(lines[0][lines[0].IndexOf(' ')..]).Append("\r\n");
        foreach (var line in lines.Skip(1).Where(line => !HopByHopHeaders.Any(name => IsHeader(line, name))))
        {
            head.Append(line).Append("\r\n");
        }

        head.Append("Content-Length: ").Append(body.Length).Append("\r\n\r\n");
        return [.. Encoding.ASCII.GetBytes(head.ToString()), .. body];
    }

    private static byte[] AsHttp10(byte[] request)
    {
        var headEnd = request.AsSpan().IndexOf("\r\n\r\n"u8);
        var lines = Encoding.ASCII.GetString(request, 0, headEnd).Split("\r\n");
        var head = new StringBuilder();
        head.Append(lines[0][..lines[0].LastIndexOf(' ')]).Append(" HTTP/1.0\r\n");
        foreach (var line in lines.Skip(1).Where(line => !HopByHopHeaders[..3].Any(name => IsHeader(line, name))))
        {
            head.Append(line).Append("\r\n");
        }

        head.Append("\r\n");
        return [.. Encoding.ASCII.GetBytes(head.ToString()), .. request.AsSpan(headEnd + 4)];
    }

    internal static bool IsHeader(string line, string name) =>
        line.Length > name.Length && line[name.Length] == ':' && line.StartsWith(name, StringComparison.OrdinalIgnoreCase);

    private static void Close(Socket socket, bool reset)
    {
        try
        {
            if (reset)
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            else
            {
                socket.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }

        socket.Dispose();
    }
}
