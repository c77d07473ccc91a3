using KlingService.Generation;
using KlingService.Hosting;
using KlingService.Kling;
using KlingService.Simulator;
using KlingService.Tests.Fixtures;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace KlingService.Tests.Hosting;

/// <summary>Bad configuration stops the service at start with one message naming the key.</summary>
public sealed class ConfigurationTests
{
    [Fact]
    public void RabbitMq_without_Postgres_is_refused_with_the_reason()
    {
        var error = Assert.Throws<StartupException>(() => Infrastructure.From(Configuration(("ConnectionStrings:RabbitMq", "amqp://guest:guest@localhost:5672/"))));

        Assert.Contains("ConnectionStrings:Postgres", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_RabbitMq_url_that_is_not_amqp_is_refused() =>
        Assert.Contains("amqp://", Assert.Throws<StartupException>(() =>
            Infrastructure.From(Configuration(("ConnectionStrings:RabbitMq", "http://localhost:15672"), ("ConnectionStrings:Postgres", "Host=db")))).Message, StringComparison.Ordinal);

    [Fact]
    public void UseDelayedExchange_is_refused_naming_what_to_set_instead() =>
        Assert.Contains("ConnectionStrings:Postgres", Assert.Throws<StartupException>(() => Infrastructure.From(Configuration(
            ("ConnectionStrings:RabbitMq", "amqp://guest:guest@localhost:5672/"), ("Scheduling:UseDelayedExchange", "true")))).Message, StringComparison.Ordinal);

    /// <summary>
    /// It ran the in-memory ledger behind a durable broker: each instance its own cap, the backlog lost on restart. An
    /// operator who still sets it (here as the environment does) learns in one line what to do instead.
    /// </summary>
    [Fact]
    public async Task The_service_binary_with_UseDelayedExchange_exits_non_zero_with_one_line_naming_it()
    {
        await using var service = ServiceProcess.Launch(new Dictionary<string, string>
        {
            ["ConnectionStrings__RabbitMq"] = "amqp://guest:guest@127.0.0.1:1/",
            ["Scheduling__UseDelayedExchange"] = "true",
            ["Kling__ApiKey"] = "test-key",
        });

        var (exitCode, line, _) = await OneLineExitAsync(service);

        Assert.Equal(2, exitCode);
        Assert.StartsWith("KlingService cannot start: Scheduling:UseDelayedExchange", line, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:Postgres", line, StringComparison.Ordinal);
    }

    [Fact]
    public void No_connection_strings_means_the_embedded_mode()
    {
        var infrastructure = Infrastructure.From(Configuration());

        Assert.Null(infrastructure.RabbitMq);
        Assert.False(infrastructure.IsDurable);
    }

    [Fact]
    public async Task An_invalid_option_stops_the_host_at_start_naming_the_key()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            var (app, simulator) = await KlingHost.BuildAsync([], new Dictionary<string, string?>
            {
                ["Health:Urls"] = "http://127.0.0.1:0",
                ["Generation:MinCheckInterval"] = "00:05:00",
                ["Generation:MaxCheckInterval"] = "00:00:10",
            });
            await using var simulatorLifetime = simulator;
            await using var appLifetime = app;
            await app.StartAsync();
        });

        Assert.Contains("Generation:MinCheckInterval", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_broker_and_a_database_without_an_api_key_are_refused_at_build_naming_Kling_ApiKey_and_start_no_simulator()
    {
        var builder = WebApplication.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(Deployed());

        var error = await Assert.ThrowsAsync<StartupException>(() => EmbeddedSimulator.StartWhenNoApiKeyAsync(builder));

        Assert.Contains("Kling:ApiKey", error.Message, StringComparison.Ordinal);
        Assert.Contains("Kling:UseSimulator", error.Message, StringComparison.Ordinal);
        // A started simulator would have pointed the client at itself.
        Assert.Null(builder.Configuration["Kling:BaseUrl"]);
        Assert.True(string.IsNullOrEmpty(builder.Configuration["Kling:ApiKey"]));
    }

    [Fact]
    public async Task The_host_with_a_broker_and_a_database_and_no_api_key_is_not_built()
    {
        var error = await Assert.ThrowsAsync<StartupException>(async () =>
        {
            var (app, simulator) = await KlingHost.BuildAsync([], Deployed());
            // Reached only when the refusal is missing: do not leave the simulator running.
            await using var simulatorLifetime = simulator;
            await using var appLifetime = app;
        });

        Assert.Contains("Kling:ApiKey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_service_binary_without_an_api_key_but_with_a_broker_and_a_database_exits_non_zero_with_one_line_naming_Kling_ApiKey()
    {
        await using var service = ServiceProcess.Launch(new Dictionary<string, string>
        {
            // Nothing listens there: the refusal must come before any connection is tried.
            ["ConnectionStrings__RabbitMq"] = $"amqp://guest:guest@127.0.0.1:{ExternalProcess.FreePort()}/",
            ["ConnectionStrings__Postgres"] = $"Host=127.0.0.1;Port={ExternalProcess.FreePort()};Username=postgres;Password=secret-not-printed;Database=kling;Timeout=2",
            ["Persistence__StartupTimeout"] = "00:00:04",
            // Whatever the test runner's environment holds.
            ["Kling__ApiKey"] = "",
            ["Kling__UseSimulator"] = "false",
        });

        var (exitCode, line, output) = await OneLineExitAsync(service);

        Assert.Equal(2, exitCode);
        Assert.StartsWith("KlingService cannot start: ", line, StringComparison.Ordinal);
        Assert.Contains("Kling:ApiKey", line, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-not-printed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UseSimulator_true_with_a_broker_and_a_database_starts_the_simulator_and_points_the_client_at_it()
    {
        var settings = Deployed();
        settings["Kling:UseSimulator"] = "true";

        var (app, simulator) = await KlingHost.BuildAsync([], settings);
        await using var simulatorLifetime = simulator;
        await using var appLifetime = app;

        var running = Assert.IsType<RunningSimulator>(simulator);
        var kling = app.Services.GetRequiredService<IOptions<KlingOptions>>().Value;
        Assert.Equal(running.BaseAddress, kling.BaseUrl);
        Assert.Equal(running.Options.ApiKey, kling.ApiKey);
        using var http = new HttpClient { BaseAddress = running.BaseAddress };
        using var stats = await http.GetAsync(SimulatorEndpoints.StatsPath);
        Assert.True(stats.IsSuccessStatusCode, $"The simulator answered {(int)stats.StatusCode}.");
    }

    [Fact]
    public async Task A_SagaConcurrency_too_high_for_the_PostgreSQL_pool_stops_the_host_at_start_naming_the_key()
    {
        // Nothing listens at the database's port: validation must stop the host before anything connects.
        var settings = new Dictionary<string, string?>
        {
            ["Health:Urls"] = "http://127.0.0.1:0",
            ["Kling:ApiKey"] = "test-key",
            ["Kling:BaseUrl"] = "http://127.0.0.1:1/",
            ["ConnectionStrings:Postgres"] = $"Host=127.0.0.1;Port={ExternalProcess.FreePort()};Username=postgres;Password=x;Database=kling;Timeout=2;Maximum Pool Size=50",
            ["Persistence:StartupTimeout"] = "00:00:30",
            ["Generation:SagaConcurrency"] = "60",
        };
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            var (app, simulator) = await KlingHost.BuildAsync([], settings);
            await using var simulatorLifetime = simulator;
            await using var appLifetime = app;
            Assert.Null(simulator);
            await app.StartAsync();
        });

        Assert.Contains("Generation:SagaConcurrency", error.Message, StringComparison.Ordinal);
        Assert.Contains("Maximum Pool Size", error.Message, StringComparison.Ordinal);
        // Not after a wait for the database (Persistence:StartupTimeout is 30 s here).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"The host took {clock.Elapsed} to refuse the option.");
    }

    [Theory]
    [InlineData(20, 50, true)] // 2 × 20 + 10 = 50: just fits
    [InlineData(21, 50, false)]
    [InlineData(45, 100, true)] // the default pool
    [InlineData(46, null, false)]
    public async Task SagaConcurrency_must_leave_twice_its_connections_plus_10_within_the_pool(int sagaConcurrency, int? maxPoolSize, bool valid)
    {
        async Task<GenerationOptions> BuildAndReadAsync()
        {
            var (app, simulator) = await KlingHost.BuildAsync([], new Dictionary<string, string?>
            {
                ["Health:Urls"] = "http://127.0.0.1:0",
                ["Kling:ApiKey"] = "test-key",
                ["Kling:BaseUrl"] = "http://127.0.0.1:1/",
                ["ConnectionStrings:Postgres"] = "Host=127.0.0.1;Port=1;Username=postgres;Password=x;Database=kling" + (maxPoolSize is { } size ? $";Maximum Pool Size={size}" : ""),
                ["Generation:SagaConcurrency"] = sagaConcurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            await using var simulatorLifetime = simulator;
            await using var appLifetime = app;
            return app.Services.GetRequiredService<IOptions<GenerationOptions>>().Value;
        }

        if (valid)
        {
            Assert.Equal(sagaConcurrency, (await BuildAndReadAsync()).SagaConcurrency);
        }
        else
        {
            // Refused while the host is built (the saga's definition reads the options), before anything is started.
            var error = await Assert.ThrowsAsync<OptionsValidationException>(BuildAndReadAsync);
            Assert.Contains("Generation:SagaConcurrency", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_service_binary_with_a_SagaConcurrency_too_high_for_the_pool_exits_non_zero_with_one_line_naming_the_key()
    {
        await using var service = ServiceProcess.Launch(new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = $"Host=127.0.0.1;Port={ExternalProcess.FreePort()};Username=postgres;Password=x;Database=kling;Timeout=2;Maximum Pool Size=50",
            ["Persistence__StartupTimeout"] = "00:00:04",
            ["Kling__ApiKey"] = "test-key",
            ["Kling__BaseUrl"] = "http://127.0.0.1:1/",
            ["Generation__SagaConcurrency"] = "60",
        });

        var (_, line, _) = await OneLineExitAsync(service);

        Assert.Contains("Generation:SagaConcurrency", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_service_binary_still_takes_settings_as_command_line_arguments_beside_its_commands()
    {
        await using var service = ServiceProcess.Launch(new Dictionary<string, string>(), ["--Kling:MaxConcurrentTasks=0"]);

        var (exitCode, line, _) = await OneLineExitAsync(service);

        Assert.Equal(2, exitCode);
        Assert.StartsWith("KlingService cannot start: ", line, StringComparison.Ordinal);
        Assert.Contains("MaxConcurrentTasks", line, StringComparison.Ordinal);
    }

    public static TheoryData<string[], string> StartFailures() => new()
    {
        { ["--ConnectionStrings:RabbitMq=amqp://guest:guest@127.0.0.1:1/", "--Kling:UseSimulator=true"], "ConnectionStrings:Postgres" },
        { ["--Kling:MaxConcurrentTasks=0"], "Kling:MaxConcurrentTasks" },
        { ["--Kling:MaxConcurrentTasks=many"], "Kling:MaxConcurrentTasks" },
        { ["--Storage:Kind=Tape"], "Storage:Kind" },
        { ["--Kling:RequestTimeout=soon"], "Kling:RequestTimeout" },
        // A typo in a key, a stray word and an unknown option would otherwise be ignored and the service run without them.
        { ["--Kling:MaxConcurentTasks=5"], "Kling:MaxConcurentTasks" },
        { ["--Kling:ApiKy=secret-not-printed"], "Kling:ApiKy" },
        { ["start"], "'start'" },
        { ["--verbose"], "--verbose" },
        // The host would take it and then listen where Health:Urls says anyway.
        { ["--urls=http://127.0.0.1:9000"], "Health:Urls" },
    };

    [Theory]
    [MemberData(nameof(StartFailures))]
    public async Task A_start_that_cannot_work_is_one_line_naming_the_setting_as_written_and_a_non_zero_exit(string[] arguments, string named)
    {
        await using var service = ServiceProcess.Launch(new Dictionary<string, string>(), arguments);

        var (_, line, output) = await OneLineExitAsync(service);

        Assert.StartsWith("KlingService", line, StringComparison.Ordinal);
        Assert.Contains(named, line, StringComparison.Ordinal);
        Assert.DoesNotContain("Options", line, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", line, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-not-printed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_health_port_in_use_is_one_line_saying_to_change_Health_Urls()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        await using var service = ServiceProcess.Launch(new Dictionary<string, string> { ["Health__Urls"] = $"http://127.0.0.1:{port}" });

        var (exitCode, line, _) = await OneLineExitAsync(service);

        Assert.Equal(2, exitCode);
        Assert.Contains("Health:Urls", line, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", line, StringComparison.Ordinal);
    }

    /// <summary>Waits for the binary to stop and asserts it did so as an operator wants: non-zero, one line, no stack trace.</summary>
    private static async Task<(int? ExitCode, string Line, string Output)> OneLineExitAsync(ServiceProcess service)
    {
        var exitCode = await service.WaitForExitAsync(TimeSpan.FromSeconds(60));
        var output = service.Output;
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(exitCode is not null and not 0, $"exit code {exitCode?.ToString() ?? "none (still running)"}:{Environment.NewLine}{output}");
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        return (exitCode, Assert.Single(lines), output);
    }

    private static Dictionary<string, string?> Deployed() => new()
    {
        ["Health:Urls"] = "http://127.0.0.1:0",
        ["ConnectionStrings:RabbitMq"] = "amqp://guest:guest@127.0.0.1:1/",
        ["ConnectionStrings:Postgres"] = "Host=127.0.0.1;Port=1;Username=postgres;Password=x;Database=kling",
        ["Kling:ApiKey"] = "",
    };

    /// <summary>
    /// Every options class of the service: each has a <c>SectionName</c> constant, so a new one is
    /// checked against CONFIGURATION.md and the settings file without being listed here.
    /// </summary>
    public static TheoryData<Type, string> OptionsClasses() => OptionsClassesIn(typeof(KlingHost).Assembly);

    /// <summary>The service's options and the embedded simulator's, which the same settings file configures.</summary>
    public static TheoryData<Type, string> SettingsFileClasses()
    {
        var classes = OptionsClasses();
        foreach (var row in OptionsClassesIn(typeof(SimulatorOptions).Assembly))
        {
            classes.Add((Type)row[0], (string)row[1]);
        }

        return classes;
    }

    [Theory]
    [MemberData(nameof(OptionsClasses))]
    public void The_configuration_table_names_every_setting(Type options, string section)
    {
        // The reference is src/KlingService/CONFIGURATION.md; only its table rows count, not its prose.
        var rows = string.Join('\n', RepositoryFiles.ReadAllText("src", "KlingService", "CONFIGURATION.md")
            .Split('\n').Where(line => line.StartsWith("| `", StringComparison.Ordinal)));
        var settings = Settings(options).Select(p => p.Name);

        // A row names a key as `Section:Name`, or as a second key of the row: `Section:First` / `Name`.
        Assert.All(settings, name => Assert.True(
            rows.Contains($"`{section}:{name}`", StringComparison.Ordinal) || rows.Contains($"/ `{name}`", StringComparison.Ordinal),
            $"The configuration table (src/KlingService/CONFIGURATION.md) does not name {section}:{name}."));
    }

    [Theory]
    [MemberData(nameof(SettingsFileClasses))]
    public void The_settings_file_lists_every_option_with_the_class_default_and_unset_ones_as_null(Type options, string section)
    {
        var file = SettingsFile();
        var defaults = Activator.CreateInstance(options)!;

        Assert.All(Settings(options), property =>
        {
            var key = $"{section}:{property.Name}";
            Assert.True(file.Keys.Contains(key), $"appsettings.json does not list {key}.");
            var expected = property.GetValue(defaults);
            AssertDefault(file, key, expected is "" ? null : expected, property.PropertyType);
        });
    }

    [Fact]
    public void The_settings_file_lists_the_settings_read_outside_options_classes_and_nothing_unknown()
    {
        var file = SettingsFile();
        foreach (var (key, expected) in LooseSettings)
        {
            Assert.True(file.Keys.Contains(key), $"appsettings.json does not list {key}.");
            AssertDefault(file, key, expected, expected?.GetType() ?? typeof(string));
        }

        var known = SettingsFileClasses()
            .SelectMany(row => Settings((Type)row[0]).Select(p => $"{row[1]}:{p.Name}"))
            .Concat(LooseSettings.Keys)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        // Not even Logging: the in-process simulator's host reads a settings file in its working
        // directory, and a log level here would turn its request logs on.
        Assert.All(file.Keys, key =>
            Assert.True(known.Contains(key), $"appsettings.json lists {key}, which no options class or setting reads."));
    }

    [Fact]
    public async Task The_host_reads_the_settings_file_beside_the_binary_whatever_the_working_directory()
    {
        var (app, simulator) = await KlingHost.BuildAsync([], new Dictionary<string, string?> { ["Health:Urls"] = "http://127.0.0.1:0" });
        await using var simulatorLifetime = simulator;
        await using var appLifetime = app;

        Assert.Equal(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory), Path.TrimEndingDirectorySeparator(app.Environment.ContentRootPath));
        // Only the file sets it: the options class's default is not configuration.
        Assert.Equal("00:00:15", app.Configuration["Generation:FirstCheckAfter"]);
    }

    /// <summary>Settings read straight from configuration rather than through an options class, with their defaults.</summary>
    private static readonly Dictionary<string, object?> LooseSettings = new()
    {
        ["ConnectionStrings:RabbitMq"] = null,
        ["ConnectionStrings:Postgres"] = null,
        [KlingService.Persistence.PostgresSchemaInitializer.StartupTimeoutKey] = TimeSpan.FromMinutes(1),
        ["Health:Urls"] = "http://127.0.0.1:8081",
    };

    private static TheoryData<Type, string> OptionsClassesIn(System.Reflection.Assembly assembly)
    {
        var classes = new TheoryData<Type, string>();
        foreach (var type in assembly.GetTypes().Where(t => t.IsClass && !t.IsAbstract).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            if (type.GetField("SectionName", System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static) is { IsLiteral: true } field)
            {
                classes.Add(type, (string)field.GetRawConstantValue()!);
            }
        }

        return classes;
    }

    // A nested section (Storage:S3) is an options class of its own, with its own SectionName.
    private static IEnumerable<System.Reflection.PropertyInfo> Settings(Type options) =>
        options.GetProperties().Where(p => p.CanWrite && !p.PropertyType.Name.EndsWith("Options", StringComparison.Ordinal));

    /// <summary>The file as the service reads it: the copy beside the binary. Keys are its leaves (a null value is still a key).</summary>
    private static (IConfiguration Values, HashSet<string> Keys) SettingsFile()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        Assert.True(File.Exists(path), "appsettings.json is not copied beside the binary.");
        var values = new ConfigurationBuilder().AddJsonFile(path).Build();
        var keys = values.AsEnumerable().Select(pair => pair.Key).Where(key => !values.GetSection(key).GetChildren().Any()).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return (values, keys);
    }

    private static void AssertDefault((IConfiguration Values, HashSet<string> Keys) file, string key, object? expected, Type type)
    {
        var raw = file.Values[key];
        if (expected is null)
        {
            // Unset stays null: a value here would count as configured (embedded-mode detection, key checks).
            Assert.True(raw is null, $"appsettings.json sets {key} to '{raw}'; its default is unset, so it must be null.");
            return;
        }

        var actual = file.Values.GetValue(Nullable.GetUnderlyingType(type) ?? type, key);
        Assert.True(Equals(expected, actual), $"appsettings.json sets {key} to '{raw}'; the default is {expected}.");
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
}
