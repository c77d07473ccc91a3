using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace KlingService.Tests.Fixtures;

/// <summary>The service as its own process, as it runs in production, so a test can kill -9 it.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;

    private ServiceProcess(Process process, StringBuilder output)
    {
        _process = process;
        _output = output;
    }

    public int ProcessId => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<ServiceProcess> StartAsync(TestEnvironment environment, Uri kling, string apiKey, IDictionary<string, string>? settings = null)
    {
        var assembly = Path.Combine(AppContext.BaseDirectory, "KlingService.dll");
        var variables = new Dictionary<string, string>
        {
            ["ConnectionStrings__RabbitMq"] = environment.RabbitMq.ToString(),
            ["ConnectionStrings__Postgres"] = environment.Postgres,
            ["Kling__BaseUrl"] = kling.ToString(),
            ["Kling__ApiKey"] = apiKey,
            // Most tests' simulators have no cap; the tests of the cap set their own.
            ["Kling__MaxConcurrentTasks"] = "1000",
            ["Generation__FirstCheckAfter"] = "00:00:01",
            ["Generation__MinCheckInterval"] = "00:00:00.500",
            ["Generation__MaxCheckInterval"] = "00:00:02",
            ["Health__Urls"] = "http://127.0.0.1:0",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__KlingService"] = "Information",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
            ["Logging__Console__FormatterName"] = "simple",
            ["DOTNET_NOLOGO"] = "1",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            variables[key] = value;
        }

        var output = new StringBuilder();
        var process = ExternalProcess.Start("dotnet", [assembly], variables, output: output);
        var service = new ServiceProcess(process, output);
        await service.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(60));
        return service;
    }

    /// <summary>
    /// The service with only the given settings (besides quiet console output) and without waiting
    /// for it to start: for tests of how it starts, or fails to. <paramref name="arguments"/> follow the
    /// binary on its command line (settings as <c>--Section:Key=value</c>, or a command).
    /// </summary>
    public static ServiceProcess Launch(IDictionary<string, string> settings, IEnumerable<string>? arguments = null)
    {
        var variables = new Dictionary<string, string>
        {
            ["Health__Urls"] = "http://127.0.0.1:0",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__Console__FormatterName"] = "simple",
            ["DOTNET_NOLOGO"] = "1",
        };
        foreach (var (key, value) in settings)
        {
            variables[key] = value;
        }

        var output = new StringBuilder();
        var process = ExternalProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "KlingService.dll"), .. arguments ?? []], variables, output: output);
        return new ServiceProcess(process, output);
    }

    /// <summary>Waits for the process to end; its exit code, or null when it still runs after the timeout.</summary>
    public Task<int?> WaitForExitAsync(TimeSpan timeout) => ExternalProcess.WaitForExitAsync(_process, timeout);

    /// <summary>Waits until the output contains the text; throws when the process ends first or the time runs out.</summary>
    public Task WaitForTextAsync(string text, TimeSpan timeout) => WaitForOutputAsync(text, timeout);

    /// <summary>Lines of output matching a pattern, e.g. one per created task.</summary>
    public int Count(string pattern) => Regex.Matches(Output, pattern).Count;

    /// <summary>Ends the process at once, with no chance to finish anything (SIGKILL).</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var giveUp = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited || DateTime.UtcNow > giveUp)
            {
                throw new InvalidOperationException($"The service did not start (exit: {(_process.HasExited ? _process.ExitCode : "running")}):{Environment.NewLine}{Output}");
            }

            await Task.Delay(100);
        }
    }
}
