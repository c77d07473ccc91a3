using System.Diagnostics;
using KlingService.Telemetry;

namespace KlingService.Demo;

/// <summary>Prints the job's trace the way a tracing UI would list it: its milestones, or with <c>--trace</c> every span.</summary>
public static class DemoTraceSummary
{
    public static void Print(IReadOnlyCollection<Activity> spans, Guid requestId, bool everySpan)
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
        if (everySpan)
        {
            Console.WriteLine($"trace {job.TraceId}: {trace.Count} spans (transport receive spans and the demo's own listener left out below)");
            foreach (var span in trace.Where(IsWorthShowing))
            {
                Console.WriteLine($"  +{(span.StartTimeUtc - start).TotalMilliseconds,7:F0} ms  {span.DisplayName}{Status(span)}");
            }

            return;
        }

        // Dozens of bus spans buried what a new user wants to see: the paid calls and the answer.
        Console.WriteLine($"trace {job.TraceId}: {trace.Count} spans; the milestones below (demo --trace lists every span)");
        foreach (var run in Runs(trace.Where(IsMilestone)))
        {
            var repeated = run.Count > 1 ? $" x{run.Count}, last" : "";
            Console.WriteLine($"  +{(run[0].StartTimeUtc - start).TotalMilliseconds,7:F0} ms  {ShortName(run[0])}{repeated}{Status(run[^1])}");
        }
    }

    // "urn:message:KlingService.Contracts:VideoReady send" says no more than "VideoReady send".
    private static string ShortName(Activity span) =>
        span.DisplayName.StartsWith("urn:message:", StringComparison.Ordinal) ? span.DisplayName[(span.DisplayName.LastIndexOf(':') + 1)..] : span.DisplayName;

    private static string Status(Activity span) => span.GetTagItem(KlingTelemetry.StatusTag) is { } value ? $" [{value}]" : "";

    private static bool IsWorthShowing(Activity span) =>
        !span.DisplayName.EndsWith(" receive", StringComparison.Ordinal)
        && !span.DisplayName.Contains("_endpoint_", StringComparison.Ordinal);

    private static bool IsMilestone(Activity span) =>
        span.DisplayName is KlingTelemetry.CreateTaskSpan or KlingTelemetry.CheckStatusSpan or KlingTelemetry.StoreVideoSpan
        || span.DisplayName.EndsWith(":VideoReady send", StringComparison.Ordinal)
        || span.DisplayName.EndsWith(":VideoFailed send", StringComparison.Ordinal);

    /// <summary>Consecutive spans of one name (a job's status checks) as one line.</summary>
    private static List<List<Activity>> Runs(IEnumerable<Activity> spans)
    {
        var runs = new List<List<Activity>>();
        foreach (var span in spans)
        {
            if (runs.Count > 0 && runs[^1][0].DisplayName == span.DisplayName)
            {
                runs[^1].Add(span);
            }
            else
            {
                runs.Add([span]);
            }
        }

        return runs;
    }
}
