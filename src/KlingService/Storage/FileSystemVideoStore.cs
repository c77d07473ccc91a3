using Microsoft.Extensions.Options;

namespace KlingService.Storage;

/// <summary>
/// One file per task under <c>Storage:Path</c>. The body goes to a temporary file that is renamed only once it is
/// whole, so a reader never sees half a video and a failed try leaves nothing.
/// </summary>
public sealed class FileSystemVideoStore(IOptions<StorageOptions> options) : IVideoStore
{
    private const int BufferBytes = 81920;
    private readonly string _root = Path.GetFullPath(options.Value.Path);
    private readonly Uri? _publicBaseUrl = options.Value.PublicBaseUrl;

    public string Root => _root;

    public async Task<StoredLocation> SaveAsync(string key, Stream video, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_root);
        var final = Path.Combine(_root, key);
        var partial = $"{final}.{Guid.NewGuid():N}.partial";
        try
        {
            await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferBytes, useAsync: true))
            {
                await video.CopyToAsync(file, BufferBytes, cancellationToken);
                await file.FlushAsync(cancellationToken);
            }

            File.Move(partial, final, overwrite: true);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }

        return new StoredLocation(_publicBaseUrl is { } baseUrl ? PublicUrl.Under(baseUrl, key) : new Uri(final).AbsoluteUri, key);
    }
}
