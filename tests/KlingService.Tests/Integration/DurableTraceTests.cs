using KlingService.Contracts;
using KlingService.Telemetry;
using KlingService.Tests.Fixtures;
using KlingService.Tests.Telemetry;

namespace KlingService.Tests.Integration;

/// <summary>The trace survives the durable scheduler: RabbitMQ, PostgreSQL and the scheduler table in between.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class DurableTraceTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public async Task One_job_is_one_trace_through_RabbitMQ_and_the_PostgreSQL_scheduler()
    {
        var environment = await infrastructure.CreateEnvironmentAsync();
        await using var service = await EmbeddedService.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:RabbitMq"] = environment.RabbitMq.ToString(),
            ["ConnectionStrings:Postgres"] = environment.Postgres,
        });
        var command = new GenerateVideo(Guid.NewGuid(), Images.Base64Png(), "a lantern in fog", VideoMode.Standard, 5);

        Assert.IsType<VideoReady>(await service.RunAsync(command));
        await service.StopAsync();

        var statusCalls = (int)service.Simulator!.Board.Stats().StatusCalls;
        var trace = TraceAssertions.AssertOneTracePerJob(service.Spans, command.RequestId, statusCalls);
        // Every check was delivered from the scheduler table, continuing the job's trace there.
        Assert.True(trace.Count(s => s.OperationName == KlingTelemetry.ScheduledDispatchSpan) >= statusCalls);
    }
}
