using KlingService.Kling;
using KlingService.Persistence;

namespace KlingService.Generation;

/// <summary>
/// Failures that say nothing about the message itself and pass soon: the provider or the network blinked. An endpoint
/// retries these itself. A database that is away is not one of them: the bus holds such messages until it is back
/// (<see cref="DatabaseOutage"/>), and a retry filter that handled them too would hand them on as failed when its own
/// attempts ran out (MassTransit lets only the innermost retry that handles an exception retry it).
/// </summary>
public static class TransientFailure
{
    public static bool Matches(Exception exception) =>
        !DatabaseOutage.Matches(exception) && exception switch
        {
            TimeoutException => true,
            _ => KlingApiException.IsTransient(exception),
        };
}
