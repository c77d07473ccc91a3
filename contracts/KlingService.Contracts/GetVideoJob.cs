namespace KlingService.Contracts;

/// <summary>
/// Asks what became of a request. Send it as a request to the <c>get-video-job</c> queue (or publish
/// it); the answer is one <see cref="VideoJobStatus"/>, with <see cref="JobState.Unknown"/> for a
/// request the service has no record of.
/// </summary>
/// <param name="RequestId">The RequestId of the <see cref="GenerateVideo"/> command.</param>
public sealed record GetVideoJob(Guid RequestId);
