namespace KlingService.Storage;

/// <summary>Where finished videos are copied before <c>VideoReady</c> goes out.</summary>
public enum StorageKind
{
    /// <summary>Nothing is copied: <c>VideoReady</c> carries only the provider's expiring URL.</summary>
    None,

    /// <summary>A directory on this machine: one <c>{task_id}.mp4</c> per task.</summary>
    FileSystem,

    /// <summary>An S3-compatible bucket, through the AWS SDK.</summary>
    S3,
}
