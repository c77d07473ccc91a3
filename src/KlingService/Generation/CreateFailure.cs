using KlingService.Kling;

namespace KlingService.Generation;

/// <summary>A failed create call, as much of it as decides what happens next (<see cref="CreateOutcome"/>).</summary>
/// <param name="Kind">What the failure proves (<see cref="CreateFailures.Classify"/>).</param>
/// <param name="Message">The failure's own words, for the logs and the client's answer.</param>
/// <param name="RetryAfter">The wait the provider asked for, as it asked it.</param>
/// <param name="Answered">The provider answered (a status came back), rather than the call failing on its way.</param>
public sealed record CreateFailure(CreateFailureKind Kind, string Message, TimeSpan? RetryAfter = null, bool Answered = false)
{
    /// <summary>
    /// Any answer but a refusal (a 429, a 503) breaks a run of refusals: only refusals without a break for the whole
    /// grace may fail a job as Unauthorized, not one 401 followed by an hour of 429s.
    /// </summary>
    public bool BreaksRunOfRefusals => Answered && Kind != CreateFailureKind.Unauthorized;

    public static CreateFailure Of(Exception failure) => new(
        CreateFailures.Classify(failure),
        failure.Message,
        (failure as KlingApiException)?.RetryAfter,
        failure is KlingApiException { Delivery: CallDelivery.Answered });
}
