namespace KlingService.Simulator;

/// <summary>
/// Checks the key, then plays the provider's bad days: windows when every key is refused, random 5xx answers
/// and requests that hang. All of these happen before a task exists; faults after creation are the create endpoint's.
/// </summary>
public sealed class FaultInjection(RequestDelegate next, SimulatorOptions options, TaskBoard board, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments("/v3", StringComparison.Ordinal))
        {
            await next(context);
            return;
        }

        if (context.Request.Headers.Authorization.ToString() != $"Bearer {options.ApiKey}")
        {
            board.CountUnauthorized();
            await new ProviderErrorResult(StatusCodes.Status401Unauthorized, "invalid API key").ExecuteAsync(context);
            return;
        }

        if (board.UnauthorizedStatus() is { } refusal)
        {
            board.CountUnauthorized();
            var message = refusal == StatusCodes.Status403Forbidden ? "this API key may not use this service now" : "invalid API key";
            await new ProviderErrorResult(refusal, message).ExecuteAsync(context);
            return;
        }

        if (board.Roll(options.HangRate))
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(options.HangSeconds), time, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await new ProviderErrorResult(StatusCodes.Status504GatewayTimeout, "upstream timed out").ExecuteAsync(context);
            return;
        }

        if (board.Roll(options.ServerErrorRate))
        {
            await new ProviderErrorResult(StatusCodes.Status503ServiceUnavailable, "provider is temporarily unavailable").ExecuteAsync(context);
            return;
        }

        await next(context);
    }
}
