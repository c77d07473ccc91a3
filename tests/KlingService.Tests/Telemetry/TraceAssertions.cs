using System.Diagnostics;
using KlingService.Telemetry;

namespace KlingService.Tests.Telemetry;

/// <summary>What "one trace per job" means, checked the same way in memory and on the durable substrate.</summary>
public static class TraceAssertions
{
    public static List<Activity> AssertOneTracePerJob(IEnumerable<Activity> allSpans, Guid requestId, int expectedChecks)
    {
        var spans = allSpans.ToList();
        var jobSpans = spans.Where(s => Equals(s.GetTagItem(KlingTelemetry.RequestIdTag), requestId)).ToList();
        var traceId = Assert.Single(jobSpans.Select(s => s.TraceId).Distinct());
        var trace = spans.Where(s => s.TraceId == traceId).OrderBy(s => s.StartTimeUtc).ToList();

        // The root is the client's send of the command.
        var root = Assert.Single(trace, s => s.Parent is null && s.ParentSpanId == default);
        Assert.Contains("generate-video", root.DisplayName, StringComparison.Ordinal);
        Assert.Equal(ActivityKind.Producer, root.Kind);

        var create = Assert.Single(trace, s => s.OperationName == KlingTelemetry.CreateTaskSpan);
        var taskId = Assert.IsType<string>(create.GetTagItem(KlingTelemetry.TaskIdTag));
        Assert.NotNull(create.GetTagItem(KlingTelemetry.ModeTag));
        Assert.NotNull(create.GetTagItem(KlingTelemetry.DurationTag));
        Assert.Contains(trace, s => s.Kind == ActivityKind.Client && s.DisplayName == "POST" && s.StartTimeUtc >= create.StartTimeUtc);

        var checks = trace.Where(s => s.OperationName == KlingTelemetry.CheckStatusSpan).ToList();
        Assert.Equal(expectedChecks, checks.Count);
        Assert.All(checks, check =>
        {
            Assert.Equal(taskId, check.GetTagItem(KlingTelemetry.TaskIdTag));
            Assert.NotNull(check.GetTagItem(KlingTelemetry.StatusTag));
            Assert.True(check.StartTimeUtc > create.StartTimeUtc);
        });
        Assert.Equal("TASK_STATUS_SUCCEED", checks[^1].GetTagItem(KlingTelemetry.StatusTag));

        // The terminal publish comes last, after every check.
        var ready = Assert.Single(trace, s => s.DisplayName.Contains("VideoReady", StringComparison.Ordinal) && s.Kind == ActivityKind.Producer);
        Assert.True(ready.StartTimeUtc >= checks[^1].StartTimeUtc);
        return trace;
    }
}
