namespace KlingService.Simulator;

/// <summary>
/// A 504 as a proxy in front of the provider writes it: an HTML page, not the provider's JSON, so a client
/// learns nothing from the body and must not take it for a provider refusal.
/// </summary>
public sealed class GatewayTimeoutPageResult : IResult
{
    private const string Page =
        "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
        httpContext.Response.ContentType = "text/html";
        return httpContext.Response.WriteAsync(Page, httpContext.RequestAborted);
    }
}
