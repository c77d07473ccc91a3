namespace KlingService.Kling;

/// <summary>
/// The Kling client's connections. A pooled connection can be handed out after the provider (or a gateway
/// in front of it) closed it and before this side noticed; a request sent on it is reset, and for a create
/// call that is indistinguishable from one that reached the provider and charged. So a create, which is
/// paid and not safe to repeat, always opens a connection of its own; a status check, which is safe to
/// repeat, rides the pool and, when the connection turns out to be gone, is sent again at once on a new one.
/// </summary>
public sealed class ProviderConnections : HttpMessageHandler
{
    private readonly HttpMessageInvoker _pooled;
    private readonly HttpMessageInvoker _fresh;

    public ProviderConnections(TimeSpan connectTimeout)
    {
        // A connect that times out proves the request never left, so a create may be retried.
        _pooled = new HttpMessageInvoker(new SocketsHttpHandler { ConnectTimeout = connectTimeout, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        // A lifetime of zero retires each connection after its one request: nothing is ever reused.
        _fresh = new HttpMessageInvoker(new SocketsHttpHandler { ConnectTimeout = connectTimeout, PooledConnectionLifetime = TimeSpan.Zero });
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!IsSafeToRepeat(request))
        {
            return await _fresh.SendAsync(request, cancellationToken);
        }

        try
        {
            return await _pooled.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e) when (!NeverConnected(e) && !cancellationToken.IsCancellationRequested)
        {
            // The connection broke before an answer's headers: most likely one the server had closed. Once more, on a new one.
            return await _fresh.SendAsync(Copy(request), cancellationToken);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _pooled.Dispose();
            _fresh.Dispose();
        }

        base.Dispose(disposing);
    }

    private static bool IsSafeToRepeat(HttpRequestMessage request) =>
        (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head) && request.Content is null;

    /// <summary>A failure to connect happened on a new connection already; repeating it at once proves nothing new.</summary>
    private static bool NeverConnected(HttpRequestException e) =>
        e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
            or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError;

    private static HttpRequestMessage Copy(HttpRequestMessage request)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version, VersionPolicy = request.VersionPolicy };
        foreach (var header in request.Headers)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        foreach (var option in request.Options)
        {
            ((IDictionary<string, object?>)copy.Options)[option.Key] = option.Value;
        }

        return copy;
    }
}
