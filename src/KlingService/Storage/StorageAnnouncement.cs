using Microsoft.Extensions.Options;

namespace KlingService.Storage;

/// <summary>Says at start where finished videos go, or that they are not kept: an operator should not have to guess.</summary>
public sealed class StorageAnnouncement(IOptions<StorageOptions> options, ILogger<StorageAnnouncement> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var storage = options.Value;
        switch (storage.Kind)
        {
            case StorageKind.FileSystem:
                StorageLog.StorageChosen(logger, StorageKind.FileSystem, Path.GetFullPath(storage.Path));
                break;
            case StorageKind.S3:
                StorageLog.StorageChosen(logger, StorageKind.S3, $"bucket {storage.S3.Bucket}, prefix '{storage.S3.Prefix}'");
                break;
            default:
                StorageLog.StorageOff(logger);
                break;
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
