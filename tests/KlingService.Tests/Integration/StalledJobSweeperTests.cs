using KlingService.Contracts;
using KlingService.Persistence;
using KlingService.Scheduling;
using KlingService.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace KlingService.Tests.Integration;

[Collection(InfrastructureCollection.Name)]
public sealed class StalledJobSweeperTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public async Task A_job_whose_scheduled_check_was_lost_is_re_armed_and_finishes()
    {
        var environment = await infrastructure.CreateEnvironmentAsync();
        await using var service = await EmbeddedService.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = environment.Postgres,
            // The first check would come only after an hour: the job can only finish if the sweeper re-arms it.
            ["Generation:FirstCheckAfter"] = "01:00:00",
        });
        var command = new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), "a lost check");
        var outcome = service.RunAsync(command);
        await using var database = NpgsqlDataSource.Create(environment.Postgres);
        await WaitForScheduledCheckAsync(database);

        // What a crash between the saga's commit and its schedule reaching the broker leaves behind.
        await ExecuteAsync(database, $"DELETE FROM {PostgresSchema.ScheduledMessages} WHERE destination LIKE '%video-job-state%' AND message_type LIKE '%CheckVideoStatus'");
        await ExecuteAsync(database, $"UPDATE {PostgresSchema.VideoJobs} SET updated_at = now() - interval '1 day'");
        var sweeper = service.App.Services.GetServices<IHostedService>().OfType<StalledJobSweeper>().Single();
        var rearmed = await sweeper.SweepAsync(CancellationToken.None);

        Assert.Equal(1, rearmed);
        Assert.IsType<VideoReady>(await outcome);
    }

    [Fact]
    public async Task A_job_whose_deadline_was_lost_is_re_armed_at_the_same_time()
    {
        var environment = await infrastructure.CreateEnvironmentAsync();
        await using var service = await EmbeddedService.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = environment.Postgres,
            ["Generation:FirstCheckAfter"] = "01:00:00",
            // The job keeps generating, so its deadline stays armed for the whole test.
            ["Simulator:ProcessingSeconds"] = "600",
        });
        _ = service.RunAsync(new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), "a lost deadline"));
        await using var database = NpgsqlDataSource.Create(environment.Postgres);
        await WaitForScheduledCheckAsync(database);
        const string deadlines = $"FROM {PostgresSchema.ScheduledMessages} WHERE message_type LIKE '%VideoJobDeadlineExpired'";
        var lostDueAt = await ScalarAsync<DateTime>(database, $"SELECT due_at {deadlines}");

        // The status check is still pending; only the deadline went missing.
        await ExecuteAsync(database, $"DELETE {deadlines}");
        await ExecuteAsync(database, $"UPDATE {PostgresSchema.VideoJobs} SET updated_at = now() - interval '1 day'");
        var sweeper = service.App.Services.GetServices<IHostedService>().OfType<StalledJobSweeper>().Single();
        var rearmed = await sweeper.SweepAsync(CancellationToken.None);

        Assert.Equal(1, rearmed);
        var giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await CountAsync(database, $"""
            SELECT count(*) FROM {PostgresSchema.VideoJobs} j JOIN {PostgresSchema.ScheduledMessages} m
            ON m.token_id = (j.data->>'DeadlineTokenId')::uuid
            """) == 0)
        {
            Assert.True(DateTime.UtcNow < giveUp, "The deadline was never armed again.");
            await Task.Delay(50);
        }

        var rearmedDueAt = await ScalarAsync<DateTime>(database, $"SELECT due_at {deadlines}");
        Assert.InRange(rearmedDueAt - lostDueAt, TimeSpan.FromSeconds(-2), TimeSpan.FromSeconds(2));
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task WaitForScheduledCheckAsync(NpgsqlDataSource database)
    {
        var giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await CountAsync(database, $"SELECT count(*) FROM {PostgresSchema.ScheduledMessages} WHERE message_type LIKE '%CheckVideoStatus'") == 0)
        {
            Assert.True(DateTime.UtcNow < giveUp, "The job never scheduled its first check.");
            await Task.Delay(50);
        }
    }

    private static async Task<long> CountAsync(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
