using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace KlingService.Tests.Fixtures;

/// <summary>
/// A throw-away S3-protocol server: s3rver from the npm registry (installed once under the user's cache when
/// missing; Node.js is on the machine), on a free port, its data in a temporary directory, with one bucket.
/// It accepts the access key and secret <c>S3RVER</c>.
/// </summary>
public sealed class LocalS3 : IAsyncDisposable
{
    public const string Bucket = "videos";
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";
    private const string Package = "s3rver@3.7.1";
    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    private readonly string _script;
    private readonly string _directory;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private LocalS3(string script, string directory, int port)
    {
        _script = script;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public Uri ServiceUrl => new($"http://127.0.0.1:{Port}/");

    /// <summary>Parts of multipart uploads the server stored, from its log.</summary>
    public int PartsStored
    {
        get
        {
            lock (_output)
            {
                return _output.ToString().Split('\n').Count(line => line.Contains("Stored part ", StringComparison.Ordinal));
            }
        }
    }

    public static async Task<LocalS3> StartAsync()
    {
        var server = new LocalS3(await InstallAsync(), Directory.CreateTempSubdirectory("kling-s3-").FullName, ExternalProcess.FreePort());
        await server.StartServerAsync();
        return server;
    }

    /// <summary>Starts the server (again, after <see cref="StopAsync"/>), with the objects it held.</summary>
    public async Task StartServerAsync()
    {
        _process = ExternalProcess.Start(
            "node",
            [_script, "-d", _directory, "-a", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "--configure-bucket", Bucket],
            output: _output);
        await ExternalProcess.WaitForPortAsync(Port, TimeSpan.FromSeconds(30), () => _output.ToString());
    }

    /// <summary>Stops the server abruptly, as an outage would.</summary>
    public async Task StopAsync()
    {
        if (_process is not null)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
            _process = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>S3RVER_SCRIPT if set; else s3rver under ~/.cache/kling-tests, installed with npm the first time.</summary>
    private static async Task<string> InstallAsync()
    {
        if (Environment.GetEnvironmentVariable("S3RVER_SCRIPT") is { Length: > 0 } configured)
        {
            return configured;
        }

        var prefix = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "kling-tests", "s3rver");
        var script = Path.Combine(prefix, "node_modules", "s3rver", "bin", "s3rver.js");
        await InstallLock.WaitAsync();
        try
        {
            if (!File.Exists(script))
            {
                var npm = ExternalProcess.FindExecutable("/usr/bin/npm", "/usr/local/bin/npm")
                    ?? throw new InvalidOperationException(
                        "The S3 tests need Node.js and npm to install s3rver (Debian: apt-get install nodejs npm), or S3RVER_SCRIPT. tests/run.sh does this.");
                Directory.CreateDirectory(prefix);
                await ExternalProcess.RunAsync(npm, ["install", "--prefix", prefix, "--no-audit", "--no-fund", "--silent", Package]);
            }
        }
        finally
        {
            InstallLock.Release();
        }

        return script;
    }
}
