using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace KlingService.Kling;

/// <summary>
/// Bounds each call (a create gets its own, longer bound, headers and body inside it), reads the
/// whole answer inside that bound, and turns every failure into a <see cref="KlingApiException"/>
/// that says how far the call got, before Refit sees it, so no exception carries the request (and
/// its Authorization header) along.
/// </summary>
public sealed class KlingErrorHandler(IOptionsMonitor<KlingOptions> options) : DelegatingHandler
{
    private const int MaxMessageLength = 300;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var limit = request.Method == HttpMethod.Post ? settings.CreateTimeout : settings.RequestTimeout;
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(limit);

        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, bound.Token);
            // The body too: a create whose task id never fully arrives is as unknown as one never answered.
            await response.Content.LoadIntoBufferAsync(bound.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // Our bound did not fire, so the handler's own connect timeout did (it arrives as a
            // cancellation wrapping a TimeoutException): the request never left.
            var neverSent = !bound.IsCancellationRequested || NeverSent(e.InnerException as HttpRequestException);
            throw new KlingApiException(
                KlingErrorKind.Transient, null,
                neverSent ? "The Kling API could not be reached (connect timeout)." : $"The Kling API did not answer within {limit}.",
                delivery: neverSent ? CallDelivery.NotSent : CallDelivery.Unknown);
        }
        catch (HttpRequestException e)
        {
            throw new KlingApiException(
                KlingErrorKind.Transient, null, $"The Kling API could not be reached ({e.HttpRequestError}).",
                delivery: NeverSent(e) ? CallDelivery.NotSent : CallDelivery.Unknown);
        }
        catch (IOException e)
        {
            throw new KlingApiException(
                KlingErrorKind.Transient, null, $"The Kling API's answer broke off ({e.GetType().Name}).", delivery: CallDelivery.Unknown);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
            // Scrubbed whole, then cut: a key straddling the cut would otherwise leave its prefix.
            var scrubbed = ProviderText.Scrub(body, settings.ApiKey);
            var detail = scrubbed.Length > MaxMessageLength ? scrubbed[..MaxMessageLength] : scrubbed;
            throw new KlingApiException(
                KlingApiException.Classify(response.StatusCode),
                response.StatusCode,
                $"Kling answered {(int)response.StatusCode} to {request.Method} {request.RequestUri?.AbsolutePath}: {detail}",
                RetryAfter(response.Headers.RetryAfter),
                CallDelivery.Answered,
                IsProviderError(response, body));
        }
    }

    /// <summary>Only a failure to connect proves the request never left; everything later may have reached the provider.</summary>
    private static bool NeverSent(HttpRequestException? e) =>
        e?.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
            or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError;

    /// <summary>The API's own error answers are JSON objects with a code and a message; a gateway's are not.</summary>
    private static bool IsProviderError(HttpResponseMessage response, string body)
    {
        if (response.Content.Headers.ContentType?.MediaType is not { } media || !media.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("code", out _)
                && json.RootElement.TryGetProperty("message", out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static TimeSpan? RetryAfter(RetryConditionHeaderValue? header) =>
        header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
}
