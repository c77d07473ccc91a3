namespace KlingService.Contracts;

/// <summary>
/// Asks the service to give up a request. Send it to the <c>cancel-video-generation</c> queue.
/// A waiting request ends at once with nothing spent; one whose task exists ends for the client at
/// once (the provider cannot cancel, so the money is spent) and delivers nothing later. An ended or
/// unknown request is left as it is.
/// </summary>
/// <param name="RequestId">The RequestId of the <see cref="GenerateVideo"/> command.</param>
public sealed record CancelVideoGeneration(Guid RequestId);
