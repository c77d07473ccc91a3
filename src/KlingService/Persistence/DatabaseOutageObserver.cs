using MassTransit;

namespace KlingService.Persistence;

/// <summary>Says when a message starts waiting for the database, and when it went through: nothing waits without a word.</summary>
internal sealed partial class DatabaseOutageObserver(ILogger logger) : IRetryObserver
{
    public Task PostCreate<T>(RetryPolicyContext<T> context)
        where T : class, PipeContext => Task.CompletedTask;

    public Task PostFault<T>(RetryContext<T> context)
        where T : class, PipeContext
    {
        if (context.RetryCount == 0)
        {
            HeldForDatabase(logger, Describe(context.Context), context.Exception.Message);
        }

        return Task.CompletedTask;
    }

    public Task PreRetry<T>(RetryContext<T> context)
        where T : class, PipeContext => Task.CompletedTask;

    public Task RetryFault<T>(RetryContext<T> context)
        where T : class, PipeContext => Task.CompletedTask;

    public Task RetryComplete<T>(RetryContext<T> context)
        where T : class, PipeContext
    {
        WentThrough(logger, Describe(context.Context), context.RetryAttempt);
        return Task.CompletedTask;
    }

    private static string Describe(PipeContext context) =>
        context is ConsumeContext consume ? $"{consume.MessageId} on {consume.ReceiveContext.InputAddress.AbsolutePath.TrimStart('/')}" : "a message";

    [LoggerMessage(1, LogLevel.Warning, "PostgreSQL is unavailable: message {Message} is held until it is back ({Error})")]
    private static partial void HeldForDatabase(ILogger logger, string message, string error);

    [LoggerMessage(2, LogLevel.Information, "PostgreSQL is back: message {Message} went through after {Attempts} attempt(s)")]
    private static partial void WentThrough(ILogger logger, string message, int attempts);
}
