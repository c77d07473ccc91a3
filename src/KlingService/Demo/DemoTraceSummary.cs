using System.Diagnostics;
using KlingService.Telemetry;

namespace KlingService.Demo;

/// <summary>Prints the job's trace the way a tracing UI would list it, compactly.</summary>
public static class DemoTraceSummary
{
    public static void Print(IReadOnlyCollection<Activity> spans, Guid requestId)
    {
        var snapshot = spans.ToList();
        var job = snapshot.FirstOrDefault(s => Equals(s.GetTagItem(KlingTelemetry.RequestIdTag), requestId));
        if (job is null)
        {
            Console.WriteLine("trace: no spans were recorded for the job");
            return;
        }

        var trace = snapshot.Where(s => s.TraceId == job.TraceId).OrderBy(s => s.StartTimeUtc).ToList();
        var start = trace[0].StartTimeUtc;
        Console.WriteLine($"trace {job.TraceId}: {trace.Count} spans (transport receive spans and the demo's own listener left out below)");
        foreach (var span in trace.Where(IsWorthShowing))
        {
            var status = span.GetTagItem(KlingTelemetry.StatusTag) is { } value ? $" [{value}]" : "";
            Console.WriteLine($"  +{(span.StartTimeUtc - start).TotalMilliseconds,7:F0} ms  {span.DisplayName}{status}");
        }
    }

    private static bool IsWorthShowing(Activity span) =>
        !span.DisplayName.EndsWith(" receive", StringComparison.Ordinal)
        && !span.DisplayName.Contains("_endpoint_", StringComparison.Ordinal);
}
