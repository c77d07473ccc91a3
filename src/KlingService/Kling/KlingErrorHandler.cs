using System.Net.Http.Headers;

namespace KlingService.Kling;

/// <summary>
/// Turns non-success answers into <see cref="KlingApiException"/> before Refit sees them, so no
/// exception carries the request (and its Authorization header) along.
/// </summary>
public sealed class KlingErrorHandler : DelegatingHandler
{
    private const int MaxMessageLength = 300;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KlingApiException(KlingErrorKind.Transient, null, "The Kling API did not answer in time.");
        }
        catch (HttpRequestException e)
        {
            throw new KlingApiException(KlingErrorKind.Transient, null, $"The Kling API could not be reached ({e.HttpRequestError}).");
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var detail = body.Length > MaxMessageLength ? body[..MaxMessageLength] : body;
            throw new KlingApiException(
                KlingApiException.Classify(response.StatusCode),
                response.StatusCode,
                $"Kling answered {(int)response.StatusCode} to {request.Method} {request.RequestUri?.AbsolutePath}: {detail}",
                RetryAfter(response.Headers.RetryAfter));
        }
    }

    private static TimeSpan? RetryAfter(RetryConditionHeaderValue? header) =>
        header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
}
