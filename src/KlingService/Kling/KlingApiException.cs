using System.Net;

namespace KlingService.Kling;

/// <summary>
/// A failed provider call, already classified. It holds no request, headers or body beyond the
/// provider's short message (with the key scrubbed out), so it is safe to log and to carry in a fault.
/// </summary>
public sealed class KlingApiException(
    KlingErrorKind kind,
    HttpStatusCode? statusCode,
    string message,
    TimeSpan? retryAfter = null,
    CallDelivery delivery = CallDelivery.Answered,
    bool providerErrorBody = false)
    : Exception(message)
{
    public KlingErrorKind Kind { get; } = kind;

    public HttpStatusCode? StatusCode { get; } = statusCode;

    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>How far the call got before it failed.</summary>
    public CallDelivery Delivery { get; } = delivery;

    /// <summary>True when the error body is the API's own <c>{"code", "message"}</c> answer, not a gateway's page.</summary>
    public bool ProviderErrorBody { get; } = providerErrorBody;

    public static KlingErrorKind Classify(HttpStatusCode status) => (int)status switch
    {
        400 or 422 => KlingErrorKind.Rejected,
        401 or 403 => KlingErrorKind.Unauthorized,
        404 => KlingErrorKind.NotFound,
        _ => KlingErrorKind.Transient,
    };

    /// <summary>True when the failure says nothing about the request itself and a later try may succeed.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        KlingApiException api => api.Kind == KlingErrorKind.Transient,
        // Not TaskCanceledException: HTTP timeouts already arrive as KlingApiException, and any other
        // cancellation is the service stopping or losing its broker, which no retry can help.
        HttpRequestException or TimeoutException => true,
        _ => false,
    };
}
