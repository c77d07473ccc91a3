using System.Net;
using System.Net.Sockets;

namespace KlingService.Hosting;

/// <summary>
/// The health listener's address (<c>Health:Urls</c>), checked free before anything starts: found taken only once
/// the host binds, it would come after the bus and the database started, in a stack trace among their logs.
/// </summary>
public static class HealthAddress
{
    public const string Key = "Health:Urls";
    public const string Default = "http://127.0.0.1:8081";

    public static string From(IConfiguration configuration) => configuration[Key] ?? Default;

    /// <summary>Throws <see cref="StartupException"/> naming <c>Health:Urls</c> when one of its ports is taken or the value is not a URL list.</summary>
    public static void EnsureFree(string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var normal = url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (!Uri.TryCreate(normal, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new StartupException($"{Key} must be http(s) URLs separated by ';', e.g. {Default}.");
            }

            // Port 0 picks a free one; a host name other than localhost is left to the host to resolve.
            if (uri.Port == 0 || !(uri.IsLoopback || IPAddress.TryParse(uri.Host.Trim('[', ']'), out _)))
            {
                continue;
            }

            var address = uri.IsLoopback && !IPAddress.TryParse(uri.Host.Trim('[', ']'), out _) ? IPAddress.Loopback : IPAddress.Parse(uri.Host.Trim('[', ']'));
            var probe = new TcpListener(address, uri.Port);
            try
            {
                probe.Start();
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                throw new StartupException(StartupFailure.HealthAddressInUse($"{Key} {url}"));
            }
            catch (SocketException e)
            {
                throw new StartupException($"{Key} {url} cannot be listened on ({e.SocketErrorCode}): set Health:Urls to an address of this machine and a port it may use.");
            }
            finally
            {
                probe.Stop();
            }
        }
    }
}
