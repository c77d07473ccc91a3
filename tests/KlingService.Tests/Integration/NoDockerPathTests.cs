using System.Globalization;
using KlingService.Cli;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Integration;

/// <summary>
/// The README's path for a machine without Docker, run as it is written: its broker and database commands on the
/// test's own RabbitMQ and PostgreSQL (only their ports differ), its settings, the service, the wait for it to be ready,
/// and a first job followed to its end. Every line of the block must be one this test knows how to run, so the README
/// and the test cannot part ways.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class NoDockerPathTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public async Task The_README_path_without_Docker_takes_a_new_user_to_a_finished_job()
    {
        var broker = infrastructure.OwnBroker("runs the README's rabbitmqctl commands");
        var postgres = infrastructure.OwnDatabaseServer("runs the README's psql commands");
        var block = Readme.Block("no-docker");
        Assert.True(block is not null, "The README has no path without Docker between <!-- no-docker --> markers.");
        var healthPort = ExternalProcess.FreePort();
        var image = Path.Combine(Path.GetTempPath(), $"kling-no-docker-{Guid.NewGuid():N}.png");
        await File.WriteAllBytesAsync(image, Images.Png(320, 320));
        string Local(string word) => word
            .Replace("localhost:5672", $"127.0.0.1:{broker.Port}", StringComparison.Ordinal)
            .Replace("Host=localhost;Port=5432", $"Host=127.0.0.1;Port={postgres.Port}", StringComparison.Ordinal)
            .Replace("127.0.0.1:8081", $"127.0.0.1:{healthPort}", StringComparison.Ordinal)
            .Replace("photo.png", image, StringComparison.Ordinal);

        var settings = new Dictionary<string, string>();
        ServiceProcess? service = null;
        CliProcess? submit = null;
        var steps = new List<string>();
        try
        {
            foreach (var command in Readme.Commands(block).Select(words => words.Select(Local).ToList()))
            {
                var line = string.Join(' ', command);
                steps.Add(line);
                switch (command)
                {
                    case ["sudo", "apt-get", "install", "-y", .. var packages]:
                        // tests/run.sh installs them; here only what the line names is checked.
                        Assert.Equal(["rabbitmq-server", "postgresql"], packages);
                        break;
                    case ["sudo", "rabbitmqctl", .. var arguments]:
                        await broker.ControlAsync([.. arguments]);
                        break;
                    case ["sudo", "-u", "postgres", "psql", "-c", var sql]:
                        await ExternalProcess.RunAsync(Path.Combine(postgres.Binaries, "psql"),
                            ["-h", "127.0.0.1", "-p", postgres.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql]);
                        break;
                    case ["export", var assignment, .. var quoted] when quoted.Count <= 1 && assignment.Contains('=', StringComparison.Ordinal):
                        // NAME=value, or NAME='value' (the quoted value is a word of its own).
                        var equals = assignment.IndexOf('=', StringComparison.Ordinal);
                        settings[assignment[..equals]] = assignment[(equals + 1)..] + string.Concat(quoted);
                        break;
                    case ["dotnet", "run", "--project", "src/KlingService", ">", "kling.log", "2>&1", "&"]:
                        service = ServiceProcess.Launch(settings);
                        break;
                    case ["until", "dotnet", "run", "--project", "src/KlingService", "--", "healthcheck", var url, ";", "do", "sleep", "2;", "done"]:
                        var giveUp = DateTime.UtcNow + TimeSpan.FromMinutes(1);
                        while ((await CliProcess.RunAsync(["healthcheck", url], settings)).ExitCode != 0)
                        {
                            Assert.True(DateTime.UtcNow < giveUp, $"The service never reported ready:{Environment.NewLine}{service?.Output}");
                            await Task.Delay(TimeSpan.FromSeconds(1));
                        }

                        break;
                    case ["dotnet", "run", "--project", "src/KlingService", "--", "submit", .. var arguments]:
                        submit = await CliProcess.RunAsync(["submit", .. arguments, "--json"], settings);
                        break;
                    default:
                        Assert.Fail($"The README's path without Docker has a line this test does not know how to run: {line}");
                        break;
                }
            }

            Assert.True(submit is not null, "The README's path without Docker never submits a job.");
            Assert.True(submit.ExitCode == ExitCodes.Ok,
                $"submit --wait exited {submit.ExitCode}:{Environment.NewLine}{submit.Stdout}{submit.Stderr}{Environment.NewLine}{service?.Output}");
            Assert.Equal("VideoReady", submit.JsonLines[^1].GetProperty("event").GetString());
        }
        finally
        {
            File.Delete(image);
            if (service is not null)
            {
                await service.DisposeAsync();
            }

            // The user and virtual host belong to the whole node, the role and database to the whole server.
            await broker.ControlAsync("delete_vhost", "kling");
            await broker.ControlAsync("delete_user", "kling");
            foreach (var sql in new[] { "DROP DATABASE IF EXISTS kling WITH (FORCE)", "DROP ROLE IF EXISTS kling" })
            {
                await ExternalProcess.RunAsync(Path.Combine(postgres.Binaries, "psql"),
                    ["-h", "127.0.0.1", "-p", postgres.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-c", sql]);
            }
        }
    }
}
