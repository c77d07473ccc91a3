using System.Diagnostics;
using System.Text;

namespace KlingService.Tests.Fixtures;

/// <summary>A throw-away PostgreSQL server from the machine's binaries: a temporary directory and a free port.</summary>
public sealed class LocalPostgres : IAsyncDisposable
{
    private readonly string _directory;
    private readonly StringBuilder _output = new();
    private Process? _server;

    private LocalPostgres(string binaries, string directory, int port)
    {
        Binaries = binaries;
        _directory = directory;
        Port = port;
    }

    public string Binaries { get; }

    public int Port { get; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=true;Timeout=5";

    private string DataDirectory => Path.Combine(_directory, "data");

    public static async Task<LocalPostgres> StartAsync()
    {
        var postgres = ExternalProcess.FindExecutable("/usr/lib/postgresql/*/bin/postgres")
            ?? throw new InvalidOperationException(
                "PostgreSQL is needed for the integration tests: set POSTGRES_URL, or install it (Debian: apt-get install postgresql). tests/run.sh does this.");
        var directory = Directory.CreateTempSubdirectory("kling-pg-").FullName;
        var server = new LocalPostgres(Path.GetDirectoryName(postgres)!, directory, ExternalProcess.FreePort());
        if (ExternalProcess.IsRoot)
        {
            await ExternalProcess.RunAsync("chown", ["postgres", directory]);
        }

        await ExternalProcess.RunAsync(Path.Combine(server.Binaries, "initdb"),
            ["-D", server.DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"], asUser: "postgres");
        await server.StartServerAsync();
        return server;
    }

    /// <summary>Starts the server on its directory and port (again, after <see cref="KillAsync"/>).</summary>
    public async Task StartServerAsync()
    {
        _server = ExternalProcess.Start(Path.Combine(Binaries, "postgres"),
            ["-D", DataDirectory, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-k", _directory,
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=300"],
            asUser: "postgres", output: _output);
        await ExternalProcess.WaitForPortAsync(Port, TimeSpan.FromSeconds(30), () => _output.ToString());
        // The port opens before the server accepts queries, and after a crash it first replays its log.
        var giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await IsReadyAsync())
        {
            if (DateTime.UtcNow > giveUp)
            {
                throw new TimeoutException($"PostgreSQL did not accept connections within a minute:{Environment.NewLine}{_output}");
            }

            await Task.Delay(200);
        }
    }

    private async Task<bool> IsReadyAsync()
    {
        using var probe = ExternalProcess.Start(Path.Combine(Binaries, "pg_isready"),
            ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", "2"]);
        await probe.WaitForExitAsync();
        return probe.ExitCode == 0;
    }

    /// <summary>Stops the server abruptly, as a crash would.</summary>
    public async Task KillAsync()
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        if (File.Exists(pidFile) && int.TryParse((await File.ReadAllLinesAsync(pidFile))[0], out var pid))
        {
            // SIGQUIT: immediate shutdown without a checkpoint; recovery runs on the next start.
            await ExternalProcess.RunAsync("kill", ["-QUIT", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        if (_server is not null)
        {
            await _server.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _server?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
