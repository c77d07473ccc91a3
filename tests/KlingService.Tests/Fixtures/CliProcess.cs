using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace KlingService.Tests.Fixtures;

/// <summary>One run of the service binary's client commands (<c>dotnet KlingService.dll submit ...</c>), as an operator runs them.</summary>
public sealed class CliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private CliProcess(IEnumerable<string> arguments, IDictionary<string, string>? environment)
    {
        var variables = new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1" };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            variables[key] = value;
        }

        _process = ExternalProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "KlingService.dll"), .. arguments], variables, output: _stdout, errors: _stderr);
    }

    public string Stdout => Read(_stdout);

    public string Stderr => Read(_stderr);

    /// <summary>Stdout's JSON lines (what <c>--json</c> prints), parsed.</summary>
    public IReadOnlyList<JsonElement> JsonLines =>
    [
        .. Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.Clone()),
    ];

    public static CliProcess Start(IEnumerable<string> arguments, IDictionary<string, string>? environment = null) => new(arguments, environment);

    /// <summary>Runs a command to its end: its exit code, stdout and stderr.</summary>
    public static async Task<CliProcess> RunAsync(IEnumerable<string> arguments, IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var run = Start(arguments, environment);
        var exitCode = await run.WaitForExitAsync(timeout ?? TimeSpan.FromMinutes(2));
        Assert.True(exitCode is not null, $"The command did not end: {string.Join(' ', arguments)}{Environment.NewLine}{run.Stdout}{run.Stderr}");
        return run;
    }

    public int ExitCode => _process.ExitCode;

    public Task<int?> WaitForExitAsync(TimeSpan timeout) => ExternalProcess.WaitForExitAsync(_process, timeout);

    /// <summary>Waits until a stream holds the text; throws when the process ends first or the time runs out.</summary>
    public async Task WaitForAsync(Func<CliProcess, string> stream, string text, TimeSpan timeout)
    {
        var giveUp = DateTime.UtcNow + timeout;
        while (!stream(this).Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited || DateTime.UtcNow > giveUp)
            {
                throw new InvalidOperationException($"'{text}' never came (exit: {(_process.HasExited ? _process.ExitCode : "running")}):{Environment.NewLine}{Stdout}{Stderr}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Ctrl+C, as a person at the terminal presses it.</summary>
    public Task InterruptAsync() => ExternalProcess.RunAsync("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static string Read(StringBuilder buffer)
    {
        lock (buffer)
        {
            return buffer.ToString();
        }
    }
}
