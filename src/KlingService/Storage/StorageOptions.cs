using System.ComponentModel.DataAnnotations;

namespace KlingService.Storage;

/// <summary>The artifact store that keeps every finished video beyond the provider's URL expiry.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>
    /// Unset: <see cref="StorageKind.FileSystem"/> in embedded mode (no broker, no database), <see cref="StorageKind.None"/>
    /// once deployed, where a directory inside a container would lose the videos it promises to keep.
    /// </summary>
    public StorageKind? Kind { get; set; }

    /// <summary>The file-system store's directory.</summary>
    public string Path { get; set; } = "./data/videos";

    /// <summary>A download larger than this is refused (and <c>VideoReady</c> carries only the provider's URL).</summary>
    [Range(1L, long.MaxValue)]
    public long MaxVideoBytes { get; set; } = 500L * 1024 * 1024;

    /// <summary>When set, <c>StoredVideoUrl</c> is this base plus the key, a permanent URL, instead of a presigned or file URL.</summary>
    public Uri? PublicBaseUrl { get; set; }

    /// <summary>Copies tried for one video before it is given up (while the provider's URL is valid).</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The first pause between tries; it doubles up to <see cref="MaxRetryDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>One try's bound, download and upload together.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The longest a job waits for its copy: past it (or past the provider URL's expiry, if sooner) <c>VideoReady</c>
    /// goes out with the provider's URL alone.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Videos one instance copies at once.</summary>
    [Range(1, 256)]
    public int CopyConcurrency { get; set; } = 4;

    public S3StorageOptions S3 { get; set; } = new();

    /// <summary>True when finished videos are copied.</summary>
    public bool Enabled => Kind is { } kind && kind != StorageKind.None;
}
