namespace KlingService.Simulator;

/// <summary>The right answer, given only after a delay longer than a client waits; nothing is written if the client hangs up first.</summary>
public sealed class LateAnswerResult(IResult answer, TimeSpan delay, TimeProvider time) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        try
        {
            await Task.Delay(delay, time, httpContext.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        await answer.ExecuteAsync(httpContext);
    }
}
