using System.Diagnostics.Metrics;
using KlingService.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace KlingService.Tests.Fixtures;

/// <summary>
/// Totals of one host's <c>kling.*</c> instruments, keyed by instrument name (every measurement) and by name plus
/// "/value" of the tag named at construction (those carrying it). Counters add their values; histograms count their records.
/// </summary>
public sealed class MeterTotals : IDisposable
{
    private readonly Dictionary<string, double> _totals = new();
    private readonly MeterListener _listener;
    private readonly string _tagKey;

    public MeterTotals(IServiceProvider services, string tagKey)
    {
        _tagKey = tagKey;
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        _listener = new MeterListener
        {
            // Only this host's instruments: other tests run hosts in parallel.
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == meterFactory && instrument.Meter.Name == KlingTelemetry.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        _listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        _listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        _listener.Start();
    }

    public double this[string key]
    {
        get
        {
            lock (_totals)
            {
                return _totals.GetValueOrDefault(key);
            }
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var tagged = instrument.Name + string.Concat(tags.ToArray().Where(t => t.Key == _tagKey).Select(t => $"/{t.Value}"));
        var amount = instrument is Histogram<int> or Histogram<double> ? 1 : value;
        lock (_totals)
        {
            // The bare name totals every measurement, whatever its tag.
            _totals[instrument.Name] = _totals.GetValueOrDefault(instrument.Name) + amount;
            if (tagged != instrument.Name)
            {
                _totals[tagged] = _totals.GetValueOrDefault(tagged) + amount;
            }
        }
    }
}
