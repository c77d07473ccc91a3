namespace KlingService.Simulator;

/// <summary>Checks the key, then plays the provider's bad days: random 5xx answers and requests that hang.</summary>
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
            await new ProviderErrorResult(StatusCodes.Status401Unauthorized, "invalid API key").ExecuteAsync(context);
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
