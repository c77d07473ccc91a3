using System.Net.Http.Headers;
using System.Text;
using Npgsql;

namespace KlingService.Tests.Fixtures;

/// <summary>
/// Real RabbitMQ and PostgreSQL: RABBITMQ_URL / POSTGRES_URL when set, otherwise servers started
/// here from the machine's binaries on free ports, stopped at the end. Each user (a test, a
/// benchmark scenario) gets its own virtual host and database. Shared by the integration tests and
/// the benchmarks, so both measure the same real things.
/// </summary>
public sealed class RealInfrastructure : IAsyncDisposable
{
    private Uri? _rabbitMqUrl;
    private string? _postgres;

    public LocalRabbitMq? LocalRabbitMq { get; private set; }

    public LocalPostgres? LocalPostgres { get; private set; }

    public static async Task<RealInfrastructure> StartAsync()
    {
        var infrastructure = new RealInfrastructure();
        await infrastructure.InitializeAsync();
        return infrastructure;
    }

    private async Task InitializeAsync()
    {
        var rabbitMq = Environment.GetEnvironmentVariable("RABBITMQ_URL") is { Length: > 0 } url ? Task.FromResult<LocalRabbitMq?>(null) : StartRabbitMqAsync();
        var postgres = Environment.GetEnvironmentVariable("POSTGRES_URL") is { Length: > 0 } ? Task.FromResult<LocalPostgres?>(null) : StartPostgresAsync();
        LocalRabbitMq = await rabbitMq;
        LocalPostgres = await postgres;
        _rabbitMqUrl = LocalRabbitMq?.Url ?? new Uri(Environment.GetEnvironmentVariable("RABBITMQ_URL")!);
        _postgres = LocalPostgres?.ConnectionString ?? ToConnectionString(Environment.GetEnvironmentVariable("POSTGRES_URL")!);
    }

    /// <summary>A fresh virtual host and database, so no test sees another's messages or rows.</summary>
    public async Task<TestEnvironment> CreateEnvironmentAsync()
    {
        var name = $"kling_{Guid.NewGuid():N}"[..20];
        // Unpooled: a test may have restarted the server since the last call.
        await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_postgres) { Pooling = false }.ConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }

        var database = new NpgsqlConnectionStringBuilder(_postgres) { Database = name }.ConnectionString;
        var broker = LocalRabbitMq is not null ? await LocalRabbitMq.CreateVirtualHostAsync(name) : await TryCreateVirtualHostAsync(_rabbitMqUrl!, name);
        return new TestEnvironment(broker, database);
    }

    public async ValueTask DisposeAsync()
    {
        if (LocalRabbitMq is not null)
        {
            await LocalRabbitMq.DisposeAsync();
        }

        if (LocalPostgres is not null)
        {
            await LocalPostgres.DisposeAsync();
        }
    }

    private static async Task<LocalRabbitMq?> StartRabbitMqAsync() => await LocalRabbitMq.StartAsync();

    private static async Task<LocalPostgres?> StartPostgresAsync() => await LocalPostgres.StartAsync();

    // With an external broker, the management API (when reachable) makes the virtual host; otherwise share its default one.
    private static async Task<Uri> TryCreateVirtualHostAsync(Uri broker, string name)
    {
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://{broker.Host}:15672/"), Timeout = TimeSpan.FromSeconds(5) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(broker.UserInfo))));
            (await http.PutAsync($"api/vhosts/{name}", null)).EnsureSuccessStatusCode();
            var user = Uri.UnescapeDataString(broker.UserInfo.Split(':')[0]);
            (await http.PutAsync($"api/permissions/{name}/{user}", new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
            return new Uri(broker, $"/{name}");
        }
        catch (HttpRequestException)
        {
            return broker;
        }
    }

    private static string ToConnectionString(string url)
    {
        if (!url.StartsWith("postgres://", StringComparison.Ordinal) && !url.StartsWith("postgresql://", StringComparison.Ordinal))
        {
            return url;
        }

        var uri = new Uri(url);
        var credentials = uri.UserInfo.Split(':', 2);
        return new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.Port > 0 ? uri.Port : 5432,
            Username = Uri.UnescapeDataString(credentials[0]),
            Password = credentials.Length > 1 ? Uri.UnescapeDataString(credentials[1]) : null,
            Database = uri.AbsolutePath.Trim('/') is { Length: > 0 } database ? database : "postgres",
        }.ConnectionString;
    }
}
