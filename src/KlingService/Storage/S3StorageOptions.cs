using System.ComponentModel.DataAnnotations;

namespace KlingService.Storage;

/// <summary>
/// The S3-compatible store. Credentials come from the AWS SDK's standard chain (<c>AWS_ACCESS_KEY_ID</c> /
/// <c>AWS_SECRET_ACCESS_KEY</c>, profiles, instance roles), never from this section.
/// </summary>
public sealed class S3StorageOptions
{
    public const string SectionName = $"{StorageOptions.SectionName}:S3";

    /// <summary>The endpoint of an S3-compatible server (MinIO, s3rver, ...); unset = AWS itself, in <see cref="Region"/>.</summary>
    public Uri? ServiceUrl { get; set; }

    public string Region { get; set; } = "us-east-1";

    public string? Bucket { get; set; }

    /// <summary>Put before every key, e.g. <c>videos/</c>.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>Bucket in the path (<c>host/bucket/key</c>) rather than the host name: what MinIO and most local servers need.</summary>
    public bool ForcePathStyle { get; set; } = true;

    /// <summary>How long the presigned URL in <c>VideoReady</c> works; SigV4 allows at most seven days.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan UrlExpiry { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// A video larger than this goes up in parts of this size (one part is all the memory a copy holds). S3 refuses
    /// parts under 5 MiB but the last.
    /// </summary>
    [Range(5 * 1024 * 1024, 1024 * 1024 * 1024)]
    public int PartSize { get; set; } = 8 * 1024 * 1024;
}
