using System.Text.RegularExpressions;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Integration;

/// <summary>The service binary starting against a PostgreSQL that is not there (yet).</summary>
[Collection(InfrastructureCollection.Name)]
public sealed partial class StartupTests(InfrastructureFixture infrastructure)
{
    private const string Password = "not-to-be-printed-7f3a";

    [Fact]
    public async Task Without_PostgreSQL_the_service_waits_its_bound_then_exits_non_zero_with_one_line_and_no_stack_trace()
    {
        var port = ExternalProcess.FreePort();
        await using var service = ServiceProcess.Launch(new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = $"Host=127.0.0.1;Port={port};Username=postgres;Password={Password};Database=kling;Timeout=2",
            ["Persistence__StartupTimeout"] = "00:00:04",
            ["Kling__UseSimulator"] = "true",
        });

        var exitCode = await service.WaitForExitAsync(TimeSpan.FromSeconds(30));

        var output = service.Output;
        Assert.True(exitCode is not null and not 0, $"exit code {exitCode?.ToString() ?? "none (still running)"}:{Environment.NewLine}{output}");
        Assert.Contains($"PostgreSQL at 127.0.0.1:{port} is not reachable yet (attempt 1)", output, StringComparison.Ordinal);
        Assert.Contains($"PostgreSQL at 127.0.0.1:{port} is not reachable yet (attempt 2)", output, StringComparison.Ordinal);
        Assert.Matches($@"PostgreSQL at 127\.0\.0\.1:{port} is unreachable after \d+ attempts over \d+ s; the service cannot start\.", output);
        Assert.DoesNotMatch(StackFrame(), output);
        Assert.DoesNotContain(Password, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostgreSQL_coming_up_during_the_wait_lets_the_service_start()
    {
        if (infrastructure.LocalPostgres is not { } postgres)
        {
            // An external server (POSTGRES_URL) cannot be stopped from here.
            return;
        }

        var environment = await infrastructure.CreateEnvironmentAsync();
        await postgres.KillAsync();
        ServiceProcess? service = null;
        try
        {
            service = ServiceProcess.Launch(new Dictionary<string, string>
            {
                ["ConnectionStrings__Postgres"] = environment.Postgres,
                ["Persistence__StartupTimeout"] = "00:01:00",
                ["Kling__UseSimulator"] = "true",
                ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
            });
            await service.WaitForTextAsync("(attempt 2)", TimeSpan.FromSeconds(30));
        }
        finally
        {
            await postgres.StartServerAsync();
        }

        await service.WaitForTextAsync("Application started", TimeSpan.FromSeconds(60));
        Assert.DoesNotMatch(StackFrame(), service.Output);
        await service.DisposeAsync();
    }

    [GeneratedRegex(@"^\s+at \S", RegexOptions.Multiline)]
    private static partial Regex StackFrame();
}
