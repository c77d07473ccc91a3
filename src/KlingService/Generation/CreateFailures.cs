using System.Net;
using KlingService.Kling;

namespace KlingService.Generation;

/// <summary>
/// The rule that keeps a request from being paid for twice: a create call is repeated only when its
/// error proves that nothing was created. Everything else is <see cref="CreateFailureKind.Ambiguous"/>.
/// </summary>
public static class CreateFailures
{
    public static CreateFailureKind Classify(Exception failure) => failure switch
    {
        KlingApiException { StatusCode: HttpStatusCode.TooManyRequests } => CreateFailureKind.Busy,
        KlingApiException { Delivery: CallDelivery.NotSent } => CreateFailureKind.NothingCreated,
        KlingApiException { Delivery: CallDelivery.Answered, StatusCode: { } status } api => FromAnswer(status, api.ProviderErrorBody),
        HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError }
            => CreateFailureKind.NothingCreated,
        // Timeouts after sending, resets while reading, unreadable answers, and anything not understood.
        _ => CreateFailureKind.Ambiguous,
    };

    private static CreateFailureKind FromAnswer(HttpStatusCode status, bool providerErrorBody) => (int)status switch
    {
        401 or 403 => CreateFailureKind.Unauthorized,
        400 or 413 or 422 => CreateFailureKind.Rejected,
        // Any other refusal of the request itself (404, 405, 408, 411, ...): nothing was created.
        >= 400 and < 500 => CreateFailureKind.NothingCreated,
        503 => CreateFailureKind.NothingCreated,
        // A gateway's 502/504 says nothing of what the provider behind it did.
        502 or 504 => CreateFailureKind.Ambiguous,
        // Other 5xx: safe only when the API itself wrote the refusal.
        >= 500 => providerErrorBody ? CreateFailureKind.NothingCreated : CreateFailureKind.Ambiguous,
        _ => CreateFailureKind.Ambiguous,
    };
}
