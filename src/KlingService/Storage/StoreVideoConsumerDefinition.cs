using MassTransit;
using Microsoft.Extensions.Options;

namespace KlingService.Storage;

/// <summary>
/// The consumer retries by itself, bounded by the provider URL's expiry, so the endpoint adds no retry; copies are
/// long and network-bound, so a few at a time per instance.
/// </summary>
public sealed class StoreVideoConsumerDefinition : ConsumerDefinition<StoreVideoConsumer>
{
    public StoreVideoConsumerDefinition(IOptions<StorageOptions> options)
    {
        ConcurrentMessageLimit = options.Value.CopyConcurrency;
    }
}
