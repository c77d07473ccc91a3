namespace KlingService.Storage;

/// <summary>Where a store put a video: the URL a client fetches it from, and its key in the store.</summary>
public sealed record StoredLocation(string Url, string Key);
