using KlingService.Generation;
using KlingService.Persistence;
using KlingService.Tests.Fixtures;
using Microsoft.Extensions.Time.Testing;

namespace KlingService.Tests.Jobs;

/// <summary>The in-memory ledger's record of an ended job, held to the same scenarios as PostgreSQL's (see <see cref="LedgerRecordScenarios"/>).</summary>
public sealed class InMemoryLedgerRecordTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public Task EndedAt_stays_put_through_a_cancel_and_later_ends() =>
        LedgerRecordScenarios.EndedAtStaysPutThroughACancelAndLaterEndsAsync(new InMemoryRequestLedger(_time, new LauncherSignal()), _time.Advance);

    [Fact]
    public Task A_cancel_that_overtakes_its_command_is_remembered() =>
        LedgerRecordScenarios.ACancelThatOvertakesItsCommandIsRememberedAsync(new InMemoryRequestLedger(_time, new LauncherSignal()));

    [Fact]
    public Task A_request_past_its_StartBy_is_never_offered_and_ends_StartByPassed() =>
        LedgerRecordScenarios.ARequestPastItsStartByIsNeverOfferedAndEndsStartByPassedAsync(new InMemoryRequestLedger(_time, new LauncherSignal()), _time.GetUtcNow);

    [Fact]
    public Task A_succeeded_job_shows_the_final_status() =>
        LedgerRecordScenarios.ASucceededJobShowsTheFinalStatusAsync(new InMemoryRequestLedger(_time, new LauncherSignal()));
}
