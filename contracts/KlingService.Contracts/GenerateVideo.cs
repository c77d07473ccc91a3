namespace KlingService.Contracts;

/// <summary>
/// Asks for one image-to-video generation. Send it to the <c>generate-video</c> queue.
/// </summary>
/// <param name="RequestId">The client's idempotency key: a repeat with the same id creates no second task.</param>
/// <param name="Image">An absolute http(s) URL, or base64 PNG/JPEG data with or without a <c>data:image/...;base64,</c> prefix.</param>
/// <param name="Prompt">Required, at most 2500 characters.</param>
/// <param name="Mode">Standard (720p) or Professional (1080p).</param>
/// <param name="DurationSeconds">5 or 10.</param>
/// <param name="GuidanceScale">0 to 1 in steps of 0.01; null leaves the provider's default.</param>
/// <param name="NegativePrompt">At most 2500 characters.</param>
/// <param name="StartBy">
/// The latest moment the job may start: a request still waiting for one of the account's slots then ends as
/// <see cref="VideoFailureReason.StartByPassed"/> with nothing created or charged, and one that arrives after it ends
/// at once. Null: it waits as long as it takes (or the service's <c>Generation:MaxWait</c>, when set).
/// </param>
public sealed record GenerateVideo(
    Guid RequestId,
    string Image,
    string Prompt,
    VideoMode Mode = VideoMode.Standard,
    int DurationSeconds = 5,
    double? GuidanceScale = null,
    string? NegativePrompt = null,
    DateTimeOffset? StartBy = null);
