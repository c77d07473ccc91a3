using System.Diagnostics;

namespace KlingService.Telemetry;

/// <summary>Every name the service reports under, in one place so dashboards and tests agree.</summary>
public static class KlingTelemetry
{
    public const string SourceName = "KlingService";
    public const string MeterName = "KlingService";

    public const string CreateTaskSpan = "kling.create_task";
    public const string CheckStatusSpan = "kling.check_status";
    public const string ScheduledDispatchSpan = "kling.scheduled_dispatch";
    public const string StoreVideoSpan = "kling.store_video";
    public const string StoreAttemptFailedEvent = "kling.store_video.attempt_failed";
    public const string VideoNotStoredEvent = "kling.store_video.not_stored";

    public const string TaskIdTag = "kling.task_id";
    public const string RequestIdTag = "kling.request_id";
    public const string ModeTag = "kling.mode";
    public const string DurationTag = "kling.duration_seconds";
    public const string StatusTag = "kling.status";
    public const string ReasonTag = "kling.failure_reason";
    public const string AttemptTag = "kling.create_attempt";
    public const string BacklogWaitTag = "kling.backlog_wait_seconds";
    public const string VideoSizeTag = "kling.video.size_bytes";
    public const string StoreDurationTag = "kling.store.duration_seconds";
    public const string StoreFailureTag = "kling.store.failure_reason";
    public const string StoreAttemptTag = "kling.store.attempt";

    public const string OperationTag = "kling.operation";
    public const string HttpStatusTag = "http.response.status_code";

    public const string JobsSubmitted = "kling.jobs.submitted";
    public const string JobsSucceeded = "kling.jobs.succeeded";
    public const string JobsFailed = "kling.jobs.failed";
    public const string JobsInFlight = "kling.jobs.in_flight";
    public const string GenerationTime = "kling.job.generation_time";
    public const string BacklogWait = "kling.job.backlog_wait";
    public const string StatusChecksPerJob = "kling.job.status_checks";
    public const string ApiCallDuration = "kling.api.call.duration";
    public const string ApiCallErrors = "kling.api.call.errors";
    public const string CreateOutcomeUnknown = "kling.create.outcome_unknown";
    public const string DuplicateCharges = "kling.create.duplicate_charges";
    public const string KeyRefused = "kling.create.key_refused";
    public const string StoredBytes = "kling.store.bytes";
    public const string StoreDuration = "kling.store.duration";
    public const string StoreFailures = "kling.store.failures";

    /// <summary>Internal messages dropped because they did not match our own records, by message type and reason.</summary>
    public const string BusRejected = "kling.bus.rejected";
    public const string RejectReasonTag = "kling.bus.reject_reason";

    public const string RetriedTag = "kling.retried";
    public const string DuplicateKindTag = "kling.duplicate_kind";

    /// <summary>MassTransit's own ActivitySource and Meter.</summary>
    public const string MassTransitSource = "MassTransit";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Scheduled messages set aside after repeated failures to send them, by message type.</summary>
    public const string SchedulerSetAside = "kling.scheduler.set_aside";
    public const string MessageTypeTag = "kling.message_type";
}
