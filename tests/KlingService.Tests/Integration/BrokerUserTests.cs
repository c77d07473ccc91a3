using System.Text;
using KlingService.Cli;
using KlingService.Contracts;
using KlingService.Simulator;
using KlingService.Tests.Fixtures;
using MyTeam.Videos;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace KlingService.Tests.Integration;

/// <summary>
/// The README's two broker users, created with exactly its commands: the service runs as its user,
/// the CLI and the client example work as the client's, and the broker refuses the client
/// everything of the service's internals.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class BrokerUserTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    private const string ServiceUser = "kling-service";
    private const string ClientUser = "my-team";
    private const ushort AccessRefused = 403;

    private readonly string _servicePassword = Guid.NewGuid().ToString("N");
    private readonly string _clientPassword = Guid.NewGuid().ToString("N");
    private LocalRabbitMq _broker = null!;
    private TestEnvironment _environment = null!;
    private Uri _client = null!;
    private RunningSimulator _simulator = null!;
    private ServiceProcess _service = null!;
    private string _image = null!;

    public async Task InitializeAsync()
    {
        _broker = infrastructure.OwnBroker("creates broker users with rabbitmqctl");
        var environment = await infrastructure.CreateEnvironmentAsync();
        var vhost = environment.RabbitMq.AbsolutePath.Trim('/');
        var block = Readme.Block("broker-users");
        Assert.True(block is not null, "The README has no broker users' commands between <!-- broker-users --> markers.");
        foreach (var command in Readme.Commands(block))
        {
            Assert.Equal("rabbitmqctl", command[0]);
            await _broker.ControlAsync([.. command.Skip(1).Select(word => word
                .Replace("<vhost>", vhost, StringComparison.Ordinal)
                .Replace("<service-password>", _servicePassword, StringComparison.Ordinal)
                .Replace("<client-password>", _clientPassword, StringComparison.Ordinal))]);
        }

        _environment = environment with { RabbitMq = As(environment.RabbitMq, ServiceUser, _servicePassword) };
        _client = As(environment.RabbitMq, ClientUser, _clientPassword);
        _simulator = await KlingSimulator.StartAsync(new SimulatorOptions { QueueSeconds = 0.3, ProcessingSeconds = 1, Seed = 19 });
        _service = await ServiceProcess.StartAsync(_environment, _simulator.BaseAddress, _simulator.Options.ApiKey, new Dictionary<string, string>
        {
            ["Generation__FirstCheckAfter"] = "00:00:00.500",
            ["Generation__MinCheckInterval"] = "00:00:00.200",
            ["Generation__MaxCheckInterval"] = "00:00:01",
        });
        _image = Path.Combine(Path.GetTempPath(), $"kling-users-{Guid.NewGuid():N}.png");
        await File.WriteAllBytesAsync(_image, Images.Png(320, 320));
    }

    public async Task DisposeAsync()
    {
        if (_image is not null)
        {
            File.Delete(_image);
        }

        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        if (_simulator is not null)
        {
            await _simulator.DisposeAsync();
        }

        // Users belong to the whole node, not to the test's virtual host: the next test creates them again.
        foreach (var user in new[] { ServiceUser, ClientUser })
        {
            if ((await _broker.ControlAsync("list_users", "--silent")).Split('\n').Any(line => line.StartsWith(user + "\t", StringComparison.Ordinal)))
            {
                await _broker.ControlAsync("delete_user", user);
            }
        }
    }

    [Fact]
    public async Task The_client_user_submits_and_waits_asks_the_status_and_runs_the_README_example_against_the_service_user()
    {
        var submit = await CliProcess.RunAsync(["submit", "--image", _image, "--prompt", "a least-privileged boat", "--wait", "--json", "--rabbitmq", _client.ToString()]);
        Assert.True(submit.ExitCode == ExitCodes.Ok, $"submit --wait exited {submit.ExitCode}:{Environment.NewLine}{submit.Stdout}{submit.Stderr}{Environment.NewLine}{_service.Output}");
        Assert.Equal("VideoReady", submit.JsonLines[^1].GetProperty("event").GetString());
        var requestId = submit.JsonLines[0].GetProperty("requestId").GetGuid();

        var status = await CliProcess.RunAsync(["status", requestId.ToString(), "--json", "--rabbitmq", _client.ToString()]);
        Assert.True(status.ExitCode == ExitCodes.Ok, $"status exited {status.ExitCode}:{Environment.NewLine}{status.Stdout}{status.Stderr}");
        Assert.Equal("Succeeded", status.JsonLines.Single().GetProperty("state").GetString());

        var (answer, outcome) = await VideoClient.GenerateAsync(_client, Images.Base64Png(), "a client team's first video, least privileged").WaitAsync(TimeSpan.FromMinutes(2));
        var ready = Assert.IsType<VideoReady>(outcome);
        Assert.Equal(answer.RequestId, ready.RequestId);
        Assert.All([submit, status], run => Assert.Equal("", run.Stderr.Trim()));
    }

    [Fact]
    public async Task The_broker_refuses_the_client_user_every_publish_declare_delete_and_read_of_the_service_internals()
    {
        // A job run first, so every exchange and queue the service uses exists, its fault path included.
        var submit = await CliProcess.RunAsync(["submit", "--image", _image, "--prompt", "one whole job", "--wait", "--json", "--rabbitmq", _client.ToString()]);
        Assert.Equal(ExitCodes.Ok, submit.ExitCode);
        var vhost = _environment.RabbitMq.AbsolutePath.Trim('/');
        var exchanges = (await _broker.ControlAsync("list_exchanges", "-p", vhost, "--silent", "name"))
            .Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .ToHashSet();
        string[] internals = ["video-job-state", "kling-scheduler", "store-video", "generate-video-fault"];
        Assert.Superset(
            new HashSet<string>([.. internals, "KlingService.Storage:StoreVideo", "KlingService.Generation:CheckVideoStatus", "MassTransit.Scheduling:ScheduleMessage", "MassTransit:Fault--KlingService.Contracts:GenerateVideo--"]),
            exchanges);
        string[] clientMayWrite = ["generate-video", "cancel-video-generation", "get-video-job"];
        // Every exchange there is but the three command endpoints (the events' too: no forged VideoReady),
        // the error and skipped queues' exchanges MassTransit makes on a first failure, and the default exchange.
        var forbidden = exchanges
            .Where(name => name.Length > 0 && !clientMayWrite.Contains(name))
            .Concat([.. internals.Concat(clientMayWrite).SelectMany(name => new[] { $"{name}_error", $"{name}_skipped" })])
            .Distinct()
            .ToList();

        var factory = new ConnectionFactory { Uri = _client, AutomaticRecoveryEnabled = false };
        await using var connection = await factory.CreateConnectionAsync();
        var refusals = new List<(string What, ShutdownEventArgs? Reason)>();
        foreach (var exchange in forbidden)
        {
            refusals.Add(($"publish to '{exchange}'", await RefusalAsync(connection, channel => channel.BasicPublishAsync(exchange, "", false, new BasicProperties(), Encoding.UTF8.GetBytes("{}")).AsTask())));
        }

        foreach (var queue in internals)
        {
            refusals.Add(($"publish to queue '{queue}' through the default exchange", await RefusalAsync(connection, channel => channel.BasicPublishAsync("", queue, false, new BasicProperties(), Encoding.UTF8.GetBytes("{}")).AsTask())));
            refusals.Add(($"declare over '{queue}'", await RefusalAsync(connection, channel => channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false))));
            refusals.Add(($"delete queue '{queue}'", await RefusalAsync(connection, channel => channel.QueueDeleteAsync(queue))));
            refusals.Add(($"delete exchange '{queue}'", await RefusalAsync(connection, channel => channel.ExchangeDeleteAsync(queue))));
            refusals.Add(($"purge '{queue}'", await RefusalAsync(connection, channel => channel.QueuePurgeAsync(queue))));
            refusals.Add(($"consume from '{queue}'", await RefusalAsync(connection, channel => channel.BasicConsumeAsync(queue, autoAck: true, new AsyncEventingBasicConsumer(channel)))));
        }

        // A queue of its own may not listen in on an internal exchange either.
        var own = $"{ClientUser}.spy-{Guid.NewGuid():N}";
        refusals.Add(("bind its own queue to 'KlingService.Storage:StoreVideo'", await RefusalAsync(connection, async channel =>
        {
            await channel.QueueDeclareAsync(own, durable: false, exclusive: true, autoDelete: true);
            await channel.QueueBindAsync(own, "KlingService.Storage:StoreVideo", "");
        })));

        var allowed = refusals.Where(r => r.Reason?.ReplyCode != AccessRefused).Select(r => $"{r.What}: {(r.Reason is null ? "accepted" : $"{r.Reason.ReplyCode} {r.Reason.ReplyText}")}").ToList();
        Assert.True(allowed.Count == 0, $"Not refused with ACCESS_REFUSED:{Environment.NewLine}{string.Join(Environment.NewLine, allowed)}");
        Assert.All(refusals, r => Assert.Contains("ACCESS_REFUSED", r.Reason!.ReplyText, StringComparison.Ordinal));
        // And nothing of the service's was changed by the attempts.
        var queues = await _broker.ControlAsync("list_queues", "-p", vhost, "--silent", "name");
        Assert.All(internals, queue => Assert.Contains(queue, queues, StringComparison.Ordinal));
    }

    private static Uri As(Uri broker, string user, string password) => new UriBuilder(broker) { UserName = user, Password = password }.Uri;

    /// <summary>
    /// Runs one operation on a channel of its own (a refusal closes the channel) and returns why the
    /// broker closed it, or null when it did not. Publishes wait for their confirm, so a refused one
    /// is seen here and not on a later operation.
    /// </summary>
    private static async Task<ShutdownEventArgs?> RefusalAsync(IConnection connection, Func<IChannel, Task> operation)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        try
        {
            await operation(channel);
            // A round trip, so a refusal that comes back after the operation returned is seen too.
            await channel.ExchangeDeclarePassiveAsync("amq.direct");
        }
        catch (Exception) when (channel.CloseReason is not null)
        {
            // The channel's close reason below is the broker's answer.
        }

        return channel.CloseReason;
    }
}
