namespace KlingService.Storage;

/// <summary>An artifact store. A save either keeps the whole video under its key or leaves nothing behind.</summary>
public interface IVideoStore
{
    /// <summary>
    /// Reads <paramref name="video"/> to its end and keeps it under <paramref name="key"/>, replacing an earlier copy;
    /// returns where it is. Failures reading the source surface as they are.
    /// </summary>
    Task<StoredLocation> SaveAsync(string key, Stream video, CancellationToken cancellationToken);
}
