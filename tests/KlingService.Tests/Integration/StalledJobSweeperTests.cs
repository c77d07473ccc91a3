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
            ["Kling:UseSimulator"] = "true",
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
