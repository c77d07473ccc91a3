using System.Net;
using KlingService.Generation;
using KlingService.Kling;

namespace KlingService.Tests.Generation;

/// <summary>The ambiguous-create rule in one table: only an error that proves nothing was created may be retried.</summary>
public sealed class CreateFailuresTests
{
    public static TheoryData<string, Exception, CreateFailureKind> Cases() => new()
    {
        { "429", Answered(HttpStatusCode.TooManyRequests), CreateFailureKind.Busy },
        { "503", Answered(HttpStatusCode.ServiceUnavailable), CreateFailureKind.NothingCreated },
        { "500 with the API's error body", Answered(HttpStatusCode.InternalServerError, providerBody: true), CreateFailureKind.NothingCreated },
        { "500 without it", Answered(HttpStatusCode.InternalServerError), CreateFailureKind.Ambiguous },
        { "502", Answered(HttpStatusCode.BadGateway, providerBody: true), CreateFailureKind.Ambiguous },
        { "504", Answered(HttpStatusCode.GatewayTimeout), CreateFailureKind.Ambiguous },
        { "400", Answered(HttpStatusCode.BadRequest, providerBody: true), CreateFailureKind.Rejected },
        { "422", Answered(HttpStatusCode.UnprocessableEntity), CreateFailureKind.Rejected },
        { "413", Answered(HttpStatusCode.RequestEntityTooLarge), CreateFailureKind.Rejected },
        { "401", Answered(HttpStatusCode.Unauthorized), CreateFailureKind.Unauthorized },
        { "403 from a proxy", Answered(HttpStatusCode.Forbidden), CreateFailureKind.Unauthorized },
        { "404", Answered(HttpStatusCode.NotFound), CreateFailureKind.NothingCreated },
        { "411", Answered(HttpStatusCode.LengthRequired), CreateFailureKind.NothingCreated },
        { "no connection", new KlingApiException(KlingErrorKind.Transient, null, "refused", delivery: CallDelivery.NotSent), CreateFailureKind.NothingCreated },
        { "timeout after sending", new KlingApiException(KlingErrorKind.Transient, null, "no answer", delivery: CallDelivery.Unknown), CreateFailureKind.Ambiguous },
        { "unreadable 200", new KlingApiException(KlingErrorKind.Transient, HttpStatusCode.OK, "bad json", delivery: CallDelivery.Unknown), CreateFailureKind.Ambiguous },
        { "bare connection refused", new HttpRequestException(HttpRequestError.ConnectionError, "refused"), CreateFailureKind.NothingCreated },
        { "bare DNS failure", new HttpRequestException(HttpRequestError.NameResolutionError, "dns"), CreateFailureKind.NothingCreated },
        { "bare reset while reading", new HttpRequestException(HttpRequestError.ResponseEnded, "reset"), CreateFailureKind.Ambiguous },
        { "a cancellation", new TaskCanceledException(), CreateFailureKind.Ambiguous },
        { "anything else", new InvalidOperationException("?"), CreateFailureKind.Ambiguous },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Classifies_a_failed_create_by_what_it_proves(string failure, Exception exception, CreateFailureKind expected) =>
        Assert.True(expected == CreateFailures.Classify(exception), $"{failure}: expected {expected}, got {CreateFailures.Classify(exception)}");

    private static KlingApiException Answered(HttpStatusCode status, bool providerBody = false) =>
        new(KlingApiException.Classify(status), status, $"Kling answered {(int)status}", providerErrorBody: providerBody);
}
