namespace KlingService.Generation;

/// <summary>
/// Another attempt holds the request's claim (a twin message, or an instance that may have
/// crashed). The command is redelivered later: by then the task exists, or the claim has lapsed.
/// </summary>
public sealed class RequestInProgressException(Guid requestId)
    : Exception($"Request {requestId} is being submitted by another attempt; it will be looked at again later.");
