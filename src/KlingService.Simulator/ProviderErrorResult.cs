namespace KlingService.Simulator;

/// <summary>An error answer in the provider's style: a JSON body with the code and message, and Retry-After on 429.</summary>
public sealed class ProviderErrorResult(int status, string message, int? retryAfterSeconds = null) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = status;
        if (retryAfterSeconds is { } seconds)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return httpContext.Response.WriteAsJsonAsync(new { code = status, message });
    }
}
