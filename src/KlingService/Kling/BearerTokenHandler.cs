using System.Net.Http.Headers;
using Microsoft.Extensions.Options;

namespace KlingService.Kling;

/// <summary>Adds the API key on the way out, so it lives in exactly one place and is never part of a log scope.</summary>
public sealed class BearerTokenHandler(IOptionsMonitor<KlingOptions> options) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.CurrentValue.ApiKey);
        return base.SendAsync(request, cancellationToken);
    }
}
