using System.Net;
using Microsoft.Extensions.Options;

namespace KlingService.Storage;

/// <summary>
/// One try at keeping a video: streams the provider's download through <see cref="CheckedVideoStream"/> into the
/// store. The provider's URL is fetched with a plain client: the API key must never travel to a CDN.
/// </summary>
public sealed class VideoCopier(IHttpClientFactory httpClients, IVideoStore store, IOptions<StorageOptions> options, TimeProvider time)
{
    public const string HttpClientName = "video-download";

    // The provider's clock and ours may differ by a little.
    private static readonly TimeSpan ExpirySkew = TimeSpan.FromSeconds(30);
    private readonly StorageOptions _options = options.Value;

    public async Task<StoredVideo> CopyAsync(string taskId, Uri videoUrl, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        var http = httpClients.CreateClient(HttpClientName);
        using var response = await http.GetAsync(videoUrl, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        // Object stores answer 403 for an object not there yet too: only past its expiry is a 403 the URL's end.
        if (response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Gone && (expiresAt is null || time.GetUtcNow() >= expiresAt - ExpirySkew))
        {
            throw new VideoStoreException(StoreFailureReason.UrlExpired, $"The provider refused the video's URL ({(int)response.StatusCode}): it has expired.");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new VideoStoreException(StoreFailureReason.DownloadFailed, $"The provider answered {(int)response.StatusCode} to the download.");
        }

        var declared = response.Content.Headers.ContentLength;
        if (declared > _options.MaxVideoBytes)
        {
            throw new VideoStoreException(StoreFailureReason.TooLarge, $"The video is {declared} bytes, over Storage:MaxVideoBytes ({_options.MaxVideoBytes}).");
        }

        await using var body = new CheckedVideoStream(await response.Content.ReadAsStreamAsync(cancellationToken), declared, _options.MaxVideoBytes);
        StoredLocation location;
        try
        {
            location = await store.SaveAsync(StorageKeys.For(taskId), body, cancellationToken);
        }
        catch (Exception e) when (e is not (VideoStoreException or OperationCanceledException))
        {
            // The body's own failures come wrapped by the checked stream: anything else is the store's.
            throw new VideoStoreException(StoreFailureReason.StoreFailed, $"The artifact store failed: {e.Message}", e);
        }

        return new StoredVideo(location.Url, location.Key, body.BytesRead, body.Sha256Hex);
    }
}
