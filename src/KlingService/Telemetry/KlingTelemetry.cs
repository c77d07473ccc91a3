using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace KlingService.Telemetry;

/// <summary>Every name the service reports under, in one place so dashboards and tests agree.</summary>
public static class KlingTelemetry
{
    public const string SourceName = "KlingService";
    public const string MeterName = "KlingService";

    public const string CreateTaskSpan = "kling.create_task";
    public const string CheckStatusSpan = "kling.check_status";
    public const string ScheduledDispatchSpan = "kling.scheduled_dispatch";

    public const string TaskIdTag = "kling.task_id";
    public const string RequestIdTag = "kling.request_id";
    public const string ModeTag = "kling.mode";
    public const string DurationTag = "kling.duration_seconds";
    public const string StatusTag = "kling.status";
    public const string ReasonTag = "kling.failure_reason";

    public static readonly ActivitySource Source = new(SourceName);
    public static readonly Meter Meter = new(MeterName);
}
