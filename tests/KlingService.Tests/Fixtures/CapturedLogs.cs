using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace KlingService.Tests.Fixtures;

/// <summary>Keeps every log line with its structured values and scopes, to search them afterwards.</summary>
public sealed class CapturedLogs : ILoggerProvider, ILogger
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull
    {
        _lines.Enqueue($"scope: {Describe(state)}");
        return null;
    }

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue($"{logLevel}: {formatter(state, exception)} | {Describe(state)} | {exception}");

    public void Dispose()
    {
    }

    private static string Describe(object? state) => state is IEnumerable<KeyValuePair<string, object?>> values
        ? string.Join(", ", values.Select(v => $"{v.Key}={v.Value}"))
        : state?.ToString() ?? "";
}
