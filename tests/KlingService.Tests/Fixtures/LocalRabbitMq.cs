using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace KlingService.Tests.Fixtures;

/// <summary>A throw-away RabbitMQ node from the machine's binaries: its own node name, directories and free ports.</summary>
public sealed class LocalRabbitMq : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _server;
    private readonly StringBuilder _output = new();
    private readonly string _nodeName;
    private Process? _process;

    private LocalRabbitMq(string server, string directory, int port)
    {
        _server = server;
        _directory = directory;
        Port = port;
        _nodeName = $"kling-test-{port}@localhost";
    }

    public int Port { get; }

    public Uri Url => new($"amqp://guest:guest@127.0.0.1:{Port}/");

    public static async Task<LocalRabbitMq> StartAsync()
    {
        var server = ExternalProcess.FindExecutable("/usr/lib/rabbitmq/bin/rabbitmq-server", "/usr/sbin/rabbitmq-server")
            ?? throw new InvalidOperationException(
                "RabbitMQ is needed for the integration tests: set RABBITMQ_URL, or install it (Debian: apt-get install rabbitmq-server). tests/run.sh does this.");
        var directory = Directory.CreateTempSubdirectory("kling-rabbitmq-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "enabled_plugins"), "[].");
        var node = new LocalRabbitMq(server, directory, ExternalProcess.FreePort());
        await node.StartServerAsync();
        return node;
    }

    public async Task StartServerAsync()
    {
        _process = ExternalProcess.Start(_server, [], Environment(), output: _output);
        await ExternalProcess.WaitForPortAsync(Port, TimeSpan.FromSeconds(90), () => _output.ToString());
    }

    /// <summary>Creates a virtual host, so each test has queues and exchanges of its own.</summary>
    public async Task<Uri> CreateVirtualHostAsync(string name)
    {
        await Control("add_vhost", name);
        await Control("set_permissions", "-p", name, "guest", ".*", ".*", ".*");
        return new Uri($"amqp://guest:guest@127.0.0.1:{Port}/{name}");
    }

    /// <summary>Queue depths and consumers of a virtual host, for failure messages.</summary>
    public Task<string> DescribeQueuesAsync(Uri virtualHost) =>
        Control("list_queues", "-p", virtualHost.AbsolutePath.Trim('/'), "name", "messages_ready", "messages_unacknowledged", "consumers");

    /// <summary>The messages in each queue of a virtual host, ready or delivered and not yet acknowledged.</summary>
    public async Task<IReadOnlyDictionary<string, int>> QueueDepthsAsync(Uri virtualHost)
    {
        var listing = await Control("list_queues", "-q", "--no-table-headers", "-p", virtualHost.AbsolutePath.Trim('/'),
            "name", "messages_ready", "messages_unacknowledged");
        return listing.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('\t'))
            .Where(columns => columns.Length == 3)
            .ToDictionary(columns => columns[0], columns => int.Parse(columns[1], CultureInfo.InvariantCulture) + int.Parse(columns[2], CultureInfo.InvariantCulture));
    }

    /// <summary>Stops the node abruptly, as a crash would.</summary>
    public async Task KillAsync()
    {
        var pidFile = Path.Combine(_directory, "pid");
        if (File.Exists(pidFile) && int.TryParse((await File.ReadAllTextAsync(pidFile)).Trim(), out var pid))
        {
            await ExternalProcess.RunAsync("kill", ["-KILL", pid.ToString(CultureInfo.InvariantCulture)]);
            File.Delete(pidFile);
        }

        if (_process is not null)
        {
            await _process.WaitForExitAsync();
            _process.Dispose();
            _process = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Runs <c>rabbitmqctl</c> against this node (and only this node): its output, or an exception with its errors.</summary>
    public Task<string> ControlAsync(params string[] arguments) => Control(arguments);

    private Task<string> Control(params string[] arguments) =>
        ExternalProcess.RunAsync(Path.Combine(Path.GetDirectoryName(_server)!, "rabbitmqctl"), ["-n", _nodeName, .. arguments], Environment());

    private Dictionary<string, string> Environment() => new()
    {
        ["HOME"] = _directory,
        ["RABBITMQ_NODENAME"] = _nodeName,
        ["RABBITMQ_NODE_PORT"] = Port.ToString(CultureInfo.InvariantCulture),
        ["RABBITMQ_DIST_PORT"] = (Port + 10000 > 65000 ? Port - 10000 : Port + 10000).ToString(CultureInfo.InvariantCulture),
        ["RABBITMQ_MNESIA_BASE"] = Path.Combine(_directory, "mnesia"),
        ["RABBITMQ_LOG_BASE"] = Path.Combine(_directory, "log"),
        ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_directory, "enabled_plugins"),
        ["RABBITMQ_PID_FILE"] = Path.Combine(_directory, "pid"),
        ["RABBITMQ_CONFIG_FILES"] = Path.Combine(_directory, "conf.d"),
        ["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(_directory, "advanced.config"),
    };
}
