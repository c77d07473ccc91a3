using System.ComponentModel.DataAnnotations;
using Amazon.S3;
using KlingService.Hosting;
using Microsoft.Extensions.Options;

namespace KlingService.Storage;

public static class StorageRegistration
{
    private static readonly TimeSpan BrokerAckTimeout = TimeSpan.FromMinutes(30);

    /// <summary>The artifact store <c>Storage:Kind</c> names, and the copier that fills it.</summary>
    public static IServiceCollection AddVideoStorage(this IServiceCollection services, IConfiguration configuration, Infrastructure infrastructure)
    {
        var embedded = infrastructure.RabbitMq is null && infrastructure.Postgres is null;
        services.AddOptions<StorageOptions>()
            .Bind(configuration.GetSection(StorageOptions.SectionName))
            .PostConfigure(o => o.Kind ??= embedded ? StorageKind.FileSystem : StorageKind.None)
            .ValidateDataAnnotations()
            .Validate(o => o.Kind != StorageKind.S3 || !string.IsNullOrWhiteSpace(o.S3.Bucket), "Storage:S3:Bucket is required when Storage:Kind is S3.")
            .Validate(o => o.Kind != StorageKind.FileSystem || !string.IsNullOrWhiteSpace(o.Path), "Storage:Path is required when Storage:Kind is FileSystem.")
            .Validate(o => o.FirstRetryDelay <= o.MaxRetryDelay, "Storage:FirstRetryDelay must not exceed Storage:MaxRetryDelay.")
            .Validate(
                o => o.StoreTimeout + o.AttemptTimeout < BrokerAckTimeout,
                "Storage:StoreTimeout + Storage:AttemptTimeout must stay under 30 minutes: a copy keeps its message unacknowledged, and RabbitMQ's "
                + "default consumer_timeout closes the channel after 30 minutes, which would start the copy again.")
            .Validate(
                o => Validator.TryValidateObject(o.S3, new ValidationContext(o.S3), null, validateAllProperties: true),
                "Storage:S3:PartSize must be between 5 MiB and 1 GiB, and Storage:S3:UrlExpiry between one minute and seven days.")
            .ValidateOnStart();

        // No request logs: a CDN may carry its token in the path.
        services.AddHttpClient(VideoCopier.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan).RemoveAllLoggers();
        services.AddSingleton<VideoCopier>();
        services.AddSingleton<FileSystemVideoStore>();
        services.AddSingleton<IAmazonS3>(provider => CreateS3Client(provider.GetRequiredService<IOptions<StorageOptions>>().Value.S3));
        services.AddSingleton<S3VideoStore>();
        services.AddSingleton<IVideoStore>(provider => provider.GetRequiredService<IOptions<StorageOptions>>().Value.Kind switch
        {
            StorageKind.S3 => provider.GetRequiredService<S3VideoStore>(),
            StorageKind.FileSystem => provider.GetRequiredService<FileSystemVideoStore>(),
            var kind => throw new InvalidOperationException($"Storage:Kind {kind} stores nothing; no copy should have been asked for."),
        });
        services.AddHostedService<StorageAnnouncement>();
        return services;
    }

    /// <summary>
    /// Credentials come from the SDK's standard chain (environment, profile, instance role). The SDK's default
    /// checksums would send aws-chunked trailers many S3-compatible servers refuse; they are asked for only where required.
    /// </summary>
    private static AmazonS3Client CreateS3Client(S3StorageOptions options)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            RequestChecksumCalculation = Amazon.Runtime.RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = Amazon.Runtime.ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.ServiceUrl is { } serviceUrl)
        {
            config.ServiceURL = serviceUrl.AbsoluteUri;
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        }

        return new AmazonS3Client(config);
    }
}
