using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace KlingService.Tests.Fixtures;

/// <summary>Small helpers for the servers and service processes the integration tests start.</summary>
public static class ExternalProcess
{
    public static bool IsRoot => Environment.UserName == "root";

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task WaitForPortAsync(int port, TimeSpan timeout, Func<string> diagnostics)
    {
        var giveUp = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < giveUp)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(200);
            }
        }

        throw new TimeoutException($"Nothing listened on port {port} within {timeout}.{Environment.NewLine}{diagnostics()}");
    }

    /// <summary>
    /// Starts a program, capturing its output (stderr into <paramref name="errors"/> when given, else
    /// with stdout); as root, optionally as another user (PostgreSQL refuses root).
    /// </summary>
    public static Process Start(
        string fileName,
        IEnumerable<string> arguments,
        IDictionary<string, string>? environment = null,
        string? asUser = null,
        StringBuilder? output = null,
        StringBuilder? errors = null,
        string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(asUser is not null && IsRoot ? "runuser" : fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        if (asUser is not null && IsRoot)
        {
            info.ArgumentList.Add("-u");
            info.ArgumentList.Add(asUser);
            info.ArgumentList.Add("--");
            info.ArgumentList.Add(fileName);
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        output ??= new StringBuilder();
        errors ??= output;
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (errors) { errors.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public static async Task<string> RunAsync(string fileName, IEnumerable<string> arguments, IDictionary<string, string>? environment = null, string? asUser = null)
    {
        var output = new StringBuilder();
        using var process = Start(fileName, arguments, environment, asUser, output);
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} exited {process.ExitCode}: {output}");
        }

        return output.ToString();
    }

    /// <summary>Waits for a process to end; its exit code, or null when it still runs after the timeout.</summary>
    public static async Task<int?> WaitForExitAsync(Process process, TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Polls a condition on the real clock until it holds; throws <paramref name="failure"/> when the time runs out.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string failure)
    {
        var giveUp = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow >= giveUp)
            {
                // Not Assert: the benchmark harness shares this file and has no test framework.
                throw new TimeoutException(failure);
            }

            await Task.Delay(50);
        }
    }

    public static string? FindExecutable(params string[] candidates) =>
        candidates.SelectMany(Expand).FirstOrDefault(File.Exists);

    private static IEnumerable<string> Expand(string pattern)
    {
        var star = pattern.IndexOf('*', StringComparison.Ordinal);
        if (star < 0)
        {
            return [pattern];
        }

        var root = pattern[..pattern.LastIndexOf('/', star)];
        var rest = pattern[(pattern.IndexOf('/', star) + 1)..];
        return Directory.Exists(root)
            ? Directory.GetDirectories(root).OrderDescending().Select(d => Path.Combine(d, rest))
            : [];
    }
}
