using System.Diagnostics;
using KlingService.Telemetry;

namespace KlingService.Kling;

/// <summary>Times every provider call and counts its failures by status code.</summary>
public sealed class KlingMetricsHandler(KlingMetrics metrics) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var operation = request.Method == HttpMethod.Post ? "create_task" : "get_task_result";
        var started = Stopwatch.GetTimestamp();
        int? status = null;
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            status = (int)response.StatusCode;
            return response;
        }
        finally
        {
            metrics.Call(operation, Stopwatch.GetElapsedTime(started), status);
        }
    }
}
