using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Options;

namespace KlingService.Storage;

/// <summary>
/// An S3-compatible bucket. A video up to one part goes up in one PUT; a larger one in parts, so a copy never holds
/// more than one part in memory; a failed multipart upload is aborted so the bucket keeps no orphan parts.
/// </summary>
public sealed class S3VideoStore(IAmazonS3 s3, IOptions<StorageOptions> options, TimeProvider time) : IVideoStore
{
    private readonly StorageOptions _options = options.Value;

    public async Task<StoredLocation> SaveAsync(string key, Stream video, CancellationToken cancellationToken)
    {
        var s3Options = _options.S3;
        var objectKey = s3Options.Prefix + key;
        var part = new byte[s3Options.PartSize];
        var filled = await FillAsync(video, part, cancellationToken);
        if (filled < part.Length)
        {
            // The whole video fits one part; the read to the source's end also ran its checks.
            await s3.PutObjectAsync(
                new PutObjectRequest
                {
                    BucketName = s3Options.Bucket,
                    Key = objectKey,
                    InputStream = new MemoryStream(part, 0, filled, writable: false),
                    ContentType = "video/mp4",
                    AutoCloseStream = true,
                    // The part is in memory, so its hash is known: no aws-chunked framing, which some S3-compatible servers store verbatim.
                    UseChunkEncoding = false,
                },
                cancellationToken);
        }
        else
        {
            await UploadInPartsAsync(objectKey, video, part, cancellationToken);
        }

        return new StoredLocation(_options.PublicBaseUrl is { } baseUrl ? PublicUrl.Under(baseUrl, objectKey) : await PresignAsync(objectKey), objectKey);
    }

    private async Task UploadInPartsAsync(string objectKey, Stream video, byte[] part, CancellationToken cancellationToken)
    {
        var bucket = _options.S3.Bucket;
        var upload = await s3.InitiateMultipartUploadAsync(
            new InitiateMultipartUploadRequest { BucketName = bucket, Key = objectKey, ContentType = "video/mp4" }, cancellationToken);
        try
        {
            var etags = new List<PartETag>();
            var filled = part.Length;
            for (var number = 1; filled > 0; number++)
            {
                var sent = await s3.UploadPartAsync(
                    new UploadPartRequest
                    {
                        BucketName = bucket,
                        Key = objectKey,
                        UploadId = upload.UploadId,
                        PartNumber = number,
                        PartSize = filled,
                        InputStream = new MemoryStream(part, 0, filled, writable: false),
                        UseChunkEncoding = false,
                    },
                    cancellationToken);
                etags.Add(new PartETag(number, sent.ETag));
                filled = await FillAsync(video, part, cancellationToken);
            }

            await s3.CompleteMultipartUploadAsync(
                new CompleteMultipartUploadRequest { BucketName = bucket, Key = objectKey, UploadId = upload.UploadId, PartETags = etags },
                cancellationToken);
        }
        catch
        {
            try
            {
                await s3.AbortMultipartUploadAsync(
                    new AbortMultipartUploadRequest { BucketName = bucket, Key = objectKey, UploadId = upload.UploadId }, CancellationToken.None);
            }
            catch (Exception e) when (e is AmazonS3Exception or HttpRequestException or IOException)
            {
                // The store is away: the parts expire under the bucket's lifecycle rule, if it has one.
            }

            throw;
        }
    }

    private Task<string> PresignAsync(string objectKey) =>
        s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = _options.S3.Bucket,
            Key = objectKey,
            Verb = HttpVerb.GET,
            Expires = time.GetUtcNow().Add(_options.S3.UrlExpiry).UtcDateTime,
            Protocol = _options.S3.ServiceUrl?.Scheme == Uri.UriSchemeHttp ? Protocol.HTTP : Protocol.HTTPS,
        });

    /// <summary>Reads until <paramref name="buffer"/> is full or the source ends; the count read.</summary>
    private static async Task<int> FillAsync(Stream source, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await source.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        return filled;
    }
}
