using KlingService.Generation;
using KlingService.Kling;
using KlingService.Simulator;
using KlingService.Tests.Fixtures;
using Xunit.Abstractions;

namespace KlingService.Tests.Kling;

/// <summary>
/// The service's own client over a socket against providers that close connections under it: one that
/// answers as HTTP/1.0 and closes after each answer, and one whose idle close races the next request.
/// A create that rides a connection already closed is reset unanswered, and would be a job lost as
/// CreateOutcomeUnknown for nothing; a status check on one is repeated on a new connection.
/// </summary>
public sealed class ConnectionReuseTests(ITestOutputHelper output)
{
    private const int Calls = 200;

    public static TheoryData<ConnectionMode> ClosingProviders() => [ConnectionMode.Http10CloseAfterAnswer, ConnectionMode.IdleClose];

    [Theory]
    [MemberData(nameof(ClosingProviders))]
    public async Task Creates_back_to_back_against_a_provider_that_closes_connections_each_create_one_task_and_none_is_left_unknown(ConnectionMode mode)
    {
        var options = new SimulatorOptions { Connections = mode, IdleCloseMilliseconds = 30, CloseInFlightMilliseconds = 15 };
        await using var kling = await SimulatorClient.StartAsync(options);
        var failures = new List<Exception>();
        var taskIds = new List<string>();

        for (var i = 0; i < Calls; i++)
        {
            await PauseAsync(mode, i, options);
            try
            {
                taskIds.Add((await kling.Api.CreateTaskAsync(new CreateTaskRequest(Images.Base64Png(), $"call {i}", "Standard", "5", null, null), CancellationToken.None)).TaskId);
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }

        var stats = kling.Simulator.Board.Stats();
        var unknown = failures.Count(e => CreateFailures.Classify(e) == CreateFailureKind.Ambiguous);
        output.WriteLine($"{mode}: {taskIds.Count} created, {unknown} outcome unknown, {failures.Count} failed; provider saw {stats.CreatesStarted} creates, made {stats.TasksCreated} tasks");
        Assert.Equal(0, unknown);
        Assert.Empty(failures.Select(e => e.Message));
        Assert.Equal(Calls, taskIds.Count);
        Assert.Equal(Calls, stats.TasksCreated);
        Assert.Equal(0, stats.DuplicatePrompts);
    }

    [Theory]
    [MemberData(nameof(ClosingProviders))]
    public async Task Status_checks_on_connections_the_provider_closed_are_answered_without_a_provider_fault(ConnectionMode mode)
    {
        var options = new SimulatorOptions { Connections = mode, IdleCloseMilliseconds = 30, CloseInFlightMilliseconds = 15 };
        await using var kling = await SimulatorClient.StartAsync(options);
        var task = await kling.Api.CreateTaskAsync(new CreateTaskRequest(Images.Base64Png(), "one task", "Standard", "5", null, null), CancellationToken.None);
        var failures = new List<string>();

        for (var i = 0; i < Calls; i++)
        {
            await PauseAsync(mode, i, options);
            try
            {
                Assert.Equal(task.TaskId, (await kling.Api.GetTaskResultAsync(task.TaskId, CancellationToken.None)).Task.TaskId);
            }
            catch (KlingApiException e)
            {
                failures.Add(e.Message);
            }
        }

        output.WriteLine($"{mode}: {Calls - failures.Count} of {Calls} status checks answered");
        Assert.Empty(failures);
    }

    /// <summary>Back to back; against an idle close, pauses around the idle limit so that closes race the next call.</summary>
    private static Task PauseAsync(ConnectionMode mode, int call, SimulatorOptions options) =>
        mode == ConnectionMode.IdleClose
            ? Task.Delay(TimeSpan.FromMilliseconds(options.IdleCloseMilliseconds - 5 + (call % 5 * 5)))
            : Task.CompletedTask;
}
