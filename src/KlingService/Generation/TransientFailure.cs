using KlingService.Kling;
using Npgsql;

namespace KlingService.Generation;

/// <summary>Failures that say nothing about the message itself: the provider, the database or the network was away.</summary>
public static class TransientFailure
{
    public static bool Matches(Exception exception) => exception switch
    {
        NpgsqlException database => database.IsTransient || database.InnerException is IOException or System.Net.Sockets.SocketException,
        TimeoutException => true,
        _ => KlingApiException.IsTransient(exception),
    };
}
