namespace KlingService.Simulator;

/// <summary>No answer at all: the connection is aborted, as when a load balancer or the network drops it mid-call.</summary>
public sealed class ConnectionResetResult : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Abort();
        return Task.CompletedTask;
    }
}
