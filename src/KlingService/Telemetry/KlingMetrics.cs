using System.Diagnostics.Metrics;
using KlingService.Contracts;

namespace KlingService.Telemetry;

/// <summary>The service's instruments, made from the host's meter factory so each host (and test) has its own.</summary>
public sealed class KlingMetrics
{
    private readonly Counter<long> _submitted;
    private readonly Counter<long> _succeeded;
    private readonly Counter<long> _failed;
    private readonly UpDownCounter<long> _inFlight;
    private readonly Histogram<double> _generationTime;
    private readonly Histogram<double> _backlogWait;
    private readonly Histogram<int> _statusChecks;
    private readonly Histogram<double> _callDuration;
    private readonly Counter<long> _callErrors;
    private readonly Counter<long> _outcomeUnknown;
    private readonly Counter<long> _duplicateCharges;
    private readonly Counter<long> _keyRefused;
    private readonly Counter<long> _schedulerSetAside;
    private readonly Counter<long> _storedBytes;
    private readonly Histogram<double> _storeDuration;
    private readonly Counter<long> _storeFailures;
    private readonly Counter<long> _busRejected;

    public KlingMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(KlingTelemetry.MeterName);
        _submitted = meter.CreateCounter<long>(KlingTelemetry.JobsSubmitted, description: "Kling tasks created");
        _succeeded = meter.CreateCounter<long>(KlingTelemetry.JobsSucceeded, description: "Jobs that ended with a video");
        _failed = meter.CreateCounter<long>(KlingTelemetry.JobsFailed, description: "Jobs that ended without a video, by reason");
        _inFlight = meter.CreateUpDownCounter<long>(KlingTelemetry.JobsInFlight, description: "Jobs being tracked");
        _generationTime = meter.CreateHistogram<double>(KlingTelemetry.GenerationTime, "s", "Time from task creation to the video");
        _backlogWait = meter.CreateHistogram<double>(KlingTelemetry.BacklogWait, "s", "Time a job waited for a generation slot before its task was created");
        _statusChecks = meter.CreateHistogram<int>(KlingTelemetry.StatusChecksPerJob, description: "Status calls made for one job");
        _callDuration = meter.CreateHistogram<double>(KlingTelemetry.ApiCallDuration, "s", "Kling API call latency");
        _callErrors = meter.CreateCounter<long>(KlingTelemetry.ApiCallErrors, description: "Kling API calls that failed, by status code");
        _outcomeUnknown = meter.CreateCounter<long>(KlingTelemetry.CreateOutcomeUnknown, description: "Create calls sent whose outcome is unknown: a task may have been charged");
        _duplicateCharges = meter.CreateCounter<long>(KlingTelemetry.DuplicateCharges, description: "Tasks created for a request that already had one, or had ended");
        _keyRefused = meter.CreateCounter<long>(KlingTelemetry.KeyRefused, description: "Create calls refused with 401/403; launching pauses");
        _schedulerSetAside = meter.CreateCounter<long>(KlingTelemetry.SchedulerSetAside, description: "Scheduled messages set aside after repeated failures to send them");
        _storedBytes = meter.CreateCounter<long>(KlingTelemetry.StoredBytes, "By", "Bytes of finished videos copied into the artifact store");
        _storeDuration = meter.CreateHistogram<double>(KlingTelemetry.StoreDuration, "s", "Time to store one video, its retries included");
        _storeFailures = meter.CreateCounter<long>(KlingTelemetry.StoreFailures, description: "Videos delivered without a stored copy, by reason");
        _busRejected = meter.CreateCounter<long>(KlingTelemetry.BusRejected, description: "Internal messages dropped because they did not match the job's own record");
    }

    public void Submitted(TimeSpan backlogWait)
    {
        _submitted.Add(1);
        _backlogWait.Record(backlogWait.TotalSeconds);
    }

    public void Started() => _inFlight.Add(1);

    public void Succeeded(TimeSpan generationTime, int statusChecks)
    {
        _inFlight.Add(-1);
        _succeeded.Add(1);
        _generationTime.Record(generationTime.TotalSeconds);
        _statusChecks.Record(statusChecks);
    }

    /// <summary>A job ended without a video; <paramref name="tracked"/> when it had a saga (it was in flight).</summary>
    public void Failed(VideoFailureReason reason, bool tracked, int statusChecks = 0)
    {
        if (tracked)
        {
            _inFlight.Add(-1);
            _statusChecks.Record(statusChecks);
        }

        _failed.Add(1, new KeyValuePair<string, object?>(KlingTelemetry.ReasonTag, reason.ToString()));
    }

    /// <summary>A create call's outcome is unknown; <paramref name="retried"/> when the policy repeats it.</summary>
    public void OutcomeUnknown(bool retried) =>
        _outcomeUnknown.Add(1, new KeyValuePair<string, object?>(KlingTelemetry.RetriedTag, retried));

    /// <summary>A task paid for twice: <paramref name="kind"/> is "duplicate" (the request had a task) or "after_end".</summary>
    public void DuplicateCharge(string kind) =>
        _duplicateCharges.Add(1, new KeyValuePair<string, object?>(KlingTelemetry.DuplicateKindTag, kind));

    public void KeyRefused() => _keyRefused.Add(1);

    public void Call(string operation, TimeSpan duration, int? statusCode)
    {
        var operationTag = new KeyValuePair<string, object?>(KlingTelemetry.OperationTag, operation);
        var statusTag = new KeyValuePair<string, object?>(KlingTelemetry.HttpStatusTag, statusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none");
        _callDuration.Record(duration.TotalSeconds, operationTag, statusTag);
        if (statusCode is null or >= 400)
        {
            _callErrors.Add(1, operationTag, statusTag);
        }
    }

    /// <summary>A scheduled message that kept failing was set aside for an operator.</summary>
    public void ScheduledMessageSetAside(string messageType) =>
        _schedulerSetAside.Add(1, new KeyValuePair<string, object?>(KlingTelemetry.MessageTypeTag, messageType));

    /// <summary>A finished video is in the artifact store.</summary>
    public void VideoStored(long bytes, TimeSpan took)
    {
        _storedBytes.Add(bytes);
        _storeDuration.Record(took.TotalSeconds);
    }

    /// <summary>A finished video went out with the provider's URL alone.</summary>
    public void VideoNotStored(Storage.StoreFailureReason reason) =>
        _storeFailures.Add(1, new KeyValuePair<string, object?>(KlingTelemetry.StoreFailureTag, reason.ToString()));

    /// <summary>A message from the bus was dropped: it did not match our own record of the job it names.</summary>
    public void BusRejected(string messageType, Storage.BusRejection reason) =>
        _busRejected.Add(1,
            new KeyValuePair<string, object?>(KlingTelemetry.MessageTypeTag, messageType),
            new KeyValuePair<string, object?>(KlingTelemetry.RejectReasonTag, reason.ToString()));
}
