using System.Net;
using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Kling;

namespace KlingService.Tests.Generation;

/// <summary>
/// What a create attempt does next, in one table: a paid call is repeated only when nothing was created, a busy
/// account or a refused key never counts against the request, and the attempt limit ends the rest.
/// An End's expected message is a part the client's answer must contain.
/// </summary>
public sealed class CreateOutcomeTests
{
    // Generation:RetryAmbiguousCreates.
    private const bool RetryAmbiguous = true;
    private const bool NoRetryAmbiguous = false;

    // A request's state when it was claimed (PendingCreate.Cancelled, PendingCreate.Abandoned).
    private const bool Cancelled = true;
    private const bool Abandoned = true;

    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    public static TheoryData<string, bool, bool, bool, CreateDecision> BeforeCallCases() => new()
    {
        { "a fresh request", !Cancelled, !Abandoned, NoRetryAmbiguous, new CreateDecision.Call(RepeatsUnknownOutcome: false) },
        { "a fresh request, repeats allowed", !Cancelled, !Abandoned, RetryAmbiguous, new CreateDecision.Call(RepeatsUnknownOutcome: false) },
        { "cancelled meanwhile", Cancelled, !Abandoned, NoRetryAmbiguous, End(VideoFailureReason.Cancelled, "Cancelled.") },
        { "cancelled while an abandoned call was open", Cancelled, Abandoned, RetryAmbiguous, End(VideoFailureReason.Cancelled, "Cancelled.") },
        { "abandoned mid-call", !Cancelled, Abandoned, NoRetryAmbiguous, End(VideoFailureReason.CreateOutcomeUnknown, "may have been created and charged") },
        { "abandoned mid-call, repeats allowed", !Cancelled, Abandoned, RetryAmbiguous, new CreateDecision.Call(RepeatsUnknownOutcome: true) },
    };

    public static TheoryData<string, CreateCallResult, CreateAttemptFacts, bool, CreateDecision> AfterCallCases() => new()
    {
        { "created", CreateCallResult.Created("task-1"), First, NoRetryAmbiguous, new CreateDecision.Record("task-1") },

        { "429 without Retry-After", Failed(Busy()), First, NoRetryAmbiguous, Postpone(2 * Second, false, PostponeCause.AccountBusy) },
        { "429 with Retry-After", Failed(Busy(30 * Second)), First, NoRetryAmbiguous, Postpone(30 * Second, false, PostponeCause.AccountBusy) },
        { "429 asking for a day", Failed(Busy(TimeSpan.FromDays(1))), First, NoRetryAmbiguous, Postpone(10 * Minute, false, PostponeCause.AccountBusy) },
        { "429 asking for nothing", Failed(Busy(TimeSpan.Zero)), First, NoRetryAmbiguous, Postpone(2 * Second, false, PostponeCause.AccountBusy) },
        { "429 at the attempt limit", Failed(Busy()), Attempt(10), NoRetryAmbiguous, Postpone(2 * Second, false, PostponeCause.AccountBusy) },

        { "rejected", Failed(Rejected), First, NoRetryAmbiguous, End(VideoFailureReason.ProviderRejected, "Kling answered 422") },
        { "rejected, repeats allowed", Failed(Rejected), First, RetryAmbiguous, End(VideoFailureReason.ProviderRejected, "Kling answered 422") },

        { "key refused for the first time", Failed(Refused), First, NoRetryAmbiguous, Postpone(TimeSpan.Zero, false, PostponeCause.KeyRefused) },
        { "key refused inside the grace", Failed(Refused), Refusal(refusedFor: 59 * Minute, waited: 2 * Hour), NoRetryAmbiguous, Postpone(TimeSpan.Zero, false, PostponeCause.KeyRefused) },
        { "key refused past the grace, request newer than it", Failed(Refused), Refusal(refusedFor: 2 * Hour, waited: 59 * Minute), NoRetryAmbiguous, Postpone(TimeSpan.Zero, false, PostponeCause.KeyRefused) },
        { "key refused through the grace", Failed(Refused), Refusal(refusedFor: Hour, waited: Hour), NoRetryAmbiguous, End(VideoFailureReason.Unauthorized, "longer than 01:00:00; nothing was created or charged: Kling answered 401") },
        { "key refused past the grace", Failed(Refused), Refusal(refusedFor: 2 * Hour, waited: 3 * Hour), NoRetryAmbiguous, End(VideoFailureReason.Unauthorized, "Kling answered 401") },
        { "key refused at the attempt limit", Failed(Refused), Attempt(10), NoRetryAmbiguous, Postpone(TimeSpan.Zero, false, PostponeCause.KeyRefused) },

        { "ambiguous", Failed(Ambiguous), First, NoRetryAmbiguous, End(VideoFailureReason.CreateOutcomeUnknown, "may have been created and charged. It was not repeated, so as not to pay twice: no answer") },
        { "ambiguous, repeats allowed", Failed(Ambiguous), First, RetryAmbiguous, Postpone(2 * Second, true, PostponeCause.FailedTransiently) },
        { "ambiguous at the limit", Failed(Ambiguous), Attempt(10), NoRetryAmbiguous, End(VideoFailureReason.CreateOutcomeUnknown, "no answer") },
        { "ambiguous at the limit, repeats allowed", Failed(Ambiguous), Attempt(10), RetryAmbiguous, End(VideoFailureReason.ProviderUnavailable, "through 10 create attempts: no answer") },

        { "nothing created, first attempt", Failed(Unavailable()), First, NoRetryAmbiguous, Postpone(2 * Second, true, PostponeCause.FailedTransiently) },
        { "nothing created, third attempt", Failed(Unavailable()), Attempt(3), NoRetryAmbiguous, Postpone(8 * Second, true, PostponeCause.FailedTransiently) },
        { "nothing created, backoff past its cap", Failed(Unavailable()), Attempt(9), NoRetryAmbiguous, Postpone(Minute, true, PostponeCause.FailedTransiently) },
        { "nothing created, at the limit", Failed(Unavailable()), Attempt(10), NoRetryAmbiguous, End(VideoFailureReason.ProviderUnavailable, "The provider stayed unavailable through 10 create attempts: Kling answered 503") },
        { "nothing created, past a lowered limit", Failed(Unavailable()), Attempt(13), NoRetryAmbiguous, End(VideoFailureReason.ProviderUnavailable, "through 13 create attempts") },
        { "Retry-After longer than the backoff", Failed(Unavailable(30 * Second)), First, NoRetryAmbiguous, Postpone(30 * Second, true, PostponeCause.FailedTransiently) },
        { "Retry-After shorter than the backoff", Failed(Unavailable(5 * Second)), Attempt(4), NoRetryAmbiguous, Postpone(16 * Second, true, PostponeCause.FailedTransiently) },
        { "Retry-After past MaxRetryAfter", Failed(Unavailable(TimeSpan.FromDays(1))), First, NoRetryAmbiguous, Postpone(10 * Minute, true, PostponeCause.FailedTransiently) },
        { "Retry-After at the limit", Failed(Unavailable(30 * Second)), Attempt(10), NoRetryAmbiguous, End(VideoFailureReason.ProviderUnavailable, "through 10 create attempts") },
    };

    public static TheoryData<string, Exception, bool> RefusalRunCases() => new()
    {
        { "a 429", Answered(HttpStatusCode.TooManyRequests), true },
        { "a 503", Answered(HttpStatusCode.ServiceUnavailable), true },
        { "a 422", Answered(HttpStatusCode.UnprocessableEntity), true },
        { "a 401", Answered(HttpStatusCode.Unauthorized), false },
        { "a proxy's 403", Answered(HttpStatusCode.Forbidden), false },
        { "no connection", new KlingApiException(KlingErrorKind.Transient, null, "refused", delivery: CallDelivery.NotSent), false },
        { "a timeout after sending", new KlingApiException(KlingErrorKind.Transient, null, "no answer", delivery: CallDelivery.Unknown), false },
        { "a bare connection error", new HttpRequestException(HttpRequestError.ConnectionError, "refused"), false },
    };

    private static CreateAttemptFacts First => Attempt(1);

    private static CreateFailure Rejected => new(CreateFailureKind.Rejected, "Kling answered 422", Answered: true);

    private static CreateFailure Refused => new(CreateFailureKind.Unauthorized, "Kling answered 401", Answered: true);

    private static CreateFailure Ambiguous => new(CreateFailureKind.Ambiguous, "no answer");

    [Theory]
    [MemberData(nameof(BeforeCallCases))]
    public void Calls_unless_the_request_was_cancelled_or_an_abandoned_call_may_not_be_repeated(
        string row, bool cancelled, bool abandoned, bool retryAmbiguous, CreateDecision expected) =>
        AssertDecision(row, expected, CreateOutcome.BeforeCall(cancelled, abandoned, Options(retryAmbiguous)));

    [Theory]
    [MemberData(nameof(AfterCallCases))]
    public void Decides_from_what_the_call_proves(string row, CreateCallResult call, CreateAttemptFacts attempt, bool retryAmbiguous, CreateDecision expected) =>
        AssertDecision(row, expected, CreateOutcome.AfterCall(call, attempt, Options(retryAmbiguous)));

    [Theory]
    [MemberData(nameof(RefusalRunCases))]
    public void Only_an_answer_other_than_a_refusal_breaks_a_run_of_refusals(string row, Exception failure, bool breaks) =>
        Assert.True(breaks == CreateFailure.Of(failure).BreaksRunOfRefusals, $"{row}: expected {breaks}");

    [Theory]
    [InlineData(0.0, 1.6)]
    [InlineData(0.25, 1.8)]
    [InlineData(0.75, 2.2)]
    [InlineData(0.999999, 2.4)]
    public void Spreads_a_retry_by_its_draw_within_a_fifth_either_side(double draw, double expectedSeconds)
    {
        var decision = CreateOutcome.AfterCall(Failed(Unavailable()), new CreateAttemptFacts(0, Minute, TimeSpan.Zero, draw), Options(NoRetryAmbiguous));

        var postpone = Assert.IsType<CreateDecision.Postpone>(decision);
        Assert.Equal(expectedSeconds, postpone.Delay.TotalSeconds, precision: 3);
    }

    private static void AssertDecision(string row, CreateDecision expected, CreateDecision actual)
    {
        var matches = (expected, actual) switch
        {
            (CreateDecision.End end, CreateDecision.End got) => end.Reason == got.Reason && got.Message.Contains(end.Message, StringComparison.Ordinal),
            _ => expected == actual,
        };
        Assert.True(matches, $"{row}: expected {expected}, got {actual}");
    }

    private static GenerationOptions Options(bool retryAmbiguous) => new()
    {
        CreateAttemptLimit = 10,
        CreateRetryMinInterval = 2 * Second,
        CreateRetryMaxInterval = Minute,
        MaxRetryAfter = 10 * Minute,
        UnauthorizedGrace = Hour,
        RetryAmbiguousCreates = retryAmbiguous,
    };

    /// <summary>Attempt <paramref name="number"/> (1-based) on a request that waited a minute, the key working, the draw leaving the pause unspread.</summary>
    private static CreateAttemptFacts Attempt(int number) => new(number - 1, Minute, TimeSpan.Zero, BackoffDraw: 0.5);

    private static CreateAttemptFacts Refusal(TimeSpan refusedFor, TimeSpan waited) => new(0, waited, refusedFor, BackoffDraw: 0.5);

    private static CreateCallResult Failed(CreateFailure failure) => CreateCallResult.Failed(failure);

    private static CreateFailure Busy(TimeSpan? retryAfter = null) => new(CreateFailureKind.Busy, "Kling answered 429", retryAfter, Answered: true);

    private static CreateFailure Unavailable(TimeSpan? retryAfter = null) => new(CreateFailureKind.NothingCreated, "Kling answered 503", retryAfter, Answered: true);

    private static CreateDecision.Postpone Postpone(TimeSpan delay, bool countsAsAttempt, PostponeCause cause) => new(delay, countsAsAttempt, cause);

    private static CreateDecision.End End(VideoFailureReason reason, string messagePart) => new(reason, messagePart);

    private static KlingApiException Answered(HttpStatusCode status) =>
        new(KlingApiException.Classify(status), status, $"Kling answered {(int)status}");
}
