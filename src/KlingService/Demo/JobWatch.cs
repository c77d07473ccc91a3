using KlingService.Contracts;
using MassTransit;

namespace KlingService.Demo;

/// <summary>Follows one request's events as any subscribing client would.</summary>
public sealed class JobWatch(Guid requestId)
{
    private readonly TaskCompletionSource<object> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<object> Outcome => _outcome.Task;

    public VideoGenerationProgressed? Latest { get; private set; }

    public void Configure(IReceiveEndpointConfigurator endpoint)
    {
        endpoint.Handler<VideoGenerationProgressed>(context =>
        {
            if (context.Message.RequestId == requestId)
            {
                Latest = context.Message;
            }

            return Task.CompletedTask;
        });
        endpoint.Handler<VideoReady>(context => Complete(context.Message.RequestId, context.Message));
        endpoint.Handler<VideoFailed>(context => Complete(context.Message.RequestId, context.Message));
    }

    private Task Complete(Guid id, object outcome)
    {
        if (id == requestId)
        {
            _outcome.TrySetResult(outcome);
        }

        return Task.CompletedTask;
    }
}
