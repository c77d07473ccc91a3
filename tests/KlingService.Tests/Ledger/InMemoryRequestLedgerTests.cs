using KlingService.Generation;
using KlingService.Persistence;
using Microsoft.Extensions.Time.Testing;

namespace KlingService.Tests.Ledger;

/// <summary>The <see cref="RequestLedgerSpec"/> against the in-memory ledger, on a fake clock.</summary>
public sealed class InMemoryRequestLedgerTests : RequestLedgerSpec
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));

    public InMemoryRequestLedgerTests() => Ledger = new InMemoryRequestLedger(_time, new LauncherSignal());

    protected override IRequestLedger Ledger { get; }

    protected override DateTimeOffset Now => _time.GetUtcNow();

    protected override Task PassAsync(TimeSpan time)
    {
        _time.Advance(time);
        return Task.CompletedTask;
    }

    /// <summary>It commits no announcements: its caller publishes what the ledger's answers call for.</summary>
    protected override Task AssertAnnouncedAsync(string type, string containing, int expected)
    {
        Assert.False(Ledger.AnnouncesInTransaction);
        return Task.CompletedTask;
    }
}
