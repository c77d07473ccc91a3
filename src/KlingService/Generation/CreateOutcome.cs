using KlingService.Contracts;

namespace KlingService.Generation;

/// <summary>
/// What a create attempt does next, decided from what is known and nothing else: the rule that a paid call is repeated
/// only when nothing was created (<see cref="CreateFailures"/>), the account's and the key's bad days, the attempt limit.
/// Pure: <see cref="CreateAttempt"/> carries the decision out.
/// </summary>
public static class CreateOutcome
{
    /// <summary>Before the call: a request cancelled meanwhile only ends; an abandoned one may have a task already.</summary>
    public static CreateDecision BeforeCall(bool cancelled, bool abandoned, GenerationOptions options) =>
        cancelled ? new CreateDecision.End(VideoFailureReason.Cancelled, "Cancelled.")
        : !abandoned ? new CreateDecision.Call(RepeatsUnknownOutcome: false)
        : options.RetryAmbiguousCreates ? new CreateDecision.Call(RepeatsUnknownOutcome: true)
        : new CreateDecision.End(
            VideoFailureReason.CreateOutcomeUnknown,
            OutcomeUnknownMessage("the instance making the call stopped, or lost its database, before the outcome was recorded"));

    /// <summary>After the call: record what was created, or what the failure proves allows.</summary>
    public static CreateDecision AfterCall(CreateCallResult result, CreateAttemptFacts attempt, GenerationOptions options) =>
        result.Failure is not { } failure ? new CreateDecision.Record(result.TaskId!) : failure.Kind switch
        {
            // The account is full: wait as long as the provider asks (within reason), keep the place, count nothing.
            CreateFailureKind.Busy => new CreateDecision.Postpone(
                RetryAfter(failure, options) ?? options.CreateRetryMinInterval, CountsAsAttempt: false, PostponeCause.AccountBusy),
            CreateFailureKind.Rejected => new CreateDecision.End(VideoFailureReason.ProviderRejected, failure.Message),
            // Only a key refused without a break for the whole grace fails a job, and only one that waited through it.
            CreateFailureKind.Unauthorized when attempt.RefusedFor >= options.UnauthorizedGrace && attempt.Waited >= options.UnauthorizedGrace =>
                new CreateDecision.End(VideoFailureReason.Unauthorized, UnauthorizedMessage(options.UnauthorizedGrace, failure.Message)),
            // A rotated key or a proxy's 403 is everyone's problem, not this request's: pause and probe.
            CreateFailureKind.Unauthorized => new CreateDecision.Postpone(TimeSpan.Zero, CountsAsAttempt: false, PostponeCause.KeyRefused),
            CreateFailureKind.Ambiguous when !options.RetryAmbiguousCreates =>
                new CreateDecision.End(VideoFailureReason.CreateOutcomeUnknown, OutcomeUnknownMessage(failure.Message)),
            _ => RetryLater(failure, attempt, options),
        };

    public static string UnauthorizedMessage(TimeSpan grace, string detail) =>
        $"Kling refused the service's API key for longer than {grace}; nothing was created or charged: {detail}";

    private static string OutcomeUnknownMessage(string detail) =>
        "The create call reached the provider but its outcome is unknown, so a task may have been created and charged. "
        + $"It was not repeated, so as not to pay twice: {detail}";

    private static CreateDecision RetryLater(CreateFailure failure, CreateAttemptFacts attempt, GenerationOptions options)
    {
        var attemptNumber = attempt.FailedAttempts + 1;
        if (attemptNumber >= options.CreateAttemptLimit)
        {
            return new CreateDecision.End(
                VideoFailureReason.ProviderUnavailable,
                $"The provider stayed unavailable through {attemptNumber} create attempts: {failure.Message}");
        }

        var backoff = Backoff.Delay(attemptNumber, options.CreateRetryMinInterval, options.CreateRetryMaxInterval, spread: 0.2, attempt.BackoffDraw);
        var delay = RetryAfter(failure, options) is { } retryAfter && retryAfter > backoff ? retryAfter : backoff;
        return new CreateDecision.Postpone(delay, CountsAsAttempt: true, PostponeCause.FailedTransiently);
    }

    /// <summary>A Retry-After within <see cref="GenerationOptions.MaxRetryAfter"/>: a provider asking for a day does not freeze the launcher.</summary>
    private static TimeSpan? RetryAfter(CreateFailure failure, GenerationOptions options) =>
        failure.RetryAfter is { } asked && asked > TimeSpan.Zero
            ? asked < options.MaxRetryAfter ? asked : options.MaxRetryAfter
            : null;
}
