namespace KlingService.Storage;

/// <summary>A video the artifact store now holds.</summary>
public sealed record StoredVideo(string Url, string Key, long SizeBytes, string Sha256);
