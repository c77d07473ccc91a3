using KlingService.Kling;
using Microsoft.Extensions.Options;

namespace KlingService.Generation;

/// <summary>
/// Creates the Kling task of each admitted request as soon as one of the account's slots is free,
/// oldest first, on every instance (the ledger hands each request and slot to one of them, under a
/// claim renewed while the call runs: <see cref="ClaimRenewal"/>). Each claimed request gets one
/// <see cref="CreateAttempt"/>; what a failed call proves decides what happens next (<see cref="CreateOutcome"/>).
/// </summary>
public sealed class TaskLauncher(
    IRequestLedger ledger,
    LauncherSignal signal,
    ProviderAccess access,
    InFlightClaims claims,
    CreateAttempt attempt,
    ClaimRenewal renewal,
    WaitingRequestSweeps sweeps,
    IOptions<KlingOptions> klingOptions,
    IOptions<GenerationOptions> generationOptions,
    TimeProvider time,
    ILogger<TaskLauncher> logger) : BackgroundService
{
    // Slots freed on other instances are seen at the next look; local ones wake the launcher at once.
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    private readonly GenerationOptions _options = generationOptions.Value;
    private readonly KlingOptions _kling = klingOptions.Value;

    // While the key is refused, one call at a time probes it: the backlog waits behind the probe
    // instead of each waiting job spending a refused call.
    private int _probing;

    /// <summary>
    /// An instance that died mid-call leaves a lapsed claim; once a call made under it must have
    /// ended (the create timeout past the lease), the claim is taken as abandoned.
    /// </summary>
    private TimeSpan AbandonedAfter => _kling.CreateTimeout + ClaimRenewal.Lease;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var calls = new SemaphoreSlim(_options.CreateConcurrency);
        while (!stoppingToken.IsCancellationRequested)
        {
            var wake = signal.Next;
            try
            {
                await sweeps.EndPastUnauthorizedGraceAsync(stoppingToken);
                await sweeps.EndPastStartByAsync(PollInterval, stoppingToken);
                await StartDueAsync(calls, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // The database is away, or a row could not be read: look again at the next poll.
                GenerationLog.LaunchFailed(logger, e.Message);
            }

            await WaitAsync(wake, stoppingToken);
        }

        // Calls already made run to the end, so every task paid for is recorded and announced.
        for (var i = 0; i < _options.CreateConcurrency; i++)
        {
            await calls.WaitAsync(CancellationToken.None);
        }
    }

    private async Task StartDueAsync(SemaphoreSlim calls, CancellationToken stoppingToken)
    {
        while (time.GetUtcNow() >= access.OpenAt && calls.Wait(TimeSpan.Zero, CancellationToken.None))
        {
            var probe = access.RefusedSince is not null;
            if (probe && Interlocked.CompareExchange(ref _probing, 1, 0) != 0)
            {
                calls.Release();
                return;
            }

            PendingCreate? next = null;
            try
            {
                next = await ledger.TakeNextAsync(_kling.MaxConcurrentTasks, ClaimRenewal.Lease, AbandonedAfter, stoppingToken);
            }
            finally
            {
                if (next is null)
                {
                    EndTurn(calls, probe);
                }
            }

            if (next is null)
            {
                return;
            }

            if (claims.HandedToRunningAttempt(next))
            {
                EndTurn(calls, probe);
                continue;
            }

            _ = Task.Run(() => RunAsync(next, calls, probe, stoppingToken), CancellationToken.None);
        }
    }

    private async Task WaitAsync(Task wake, CancellationToken stoppingToken)
    {
        var closedFor = access.OpenAt - time.GetUtcNow();
        var wait = closedFor > TimeSpan.Zero && closedFor < PollInterval ? closedFor : PollInterval;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var delay = Task.Delay(wait, time, cancel.Token);
        await Task.WhenAny(wake, delay);
        await cancel.CancelAsync();
    }

    private void EndTurn(SemaphoreSlim calls, bool probe)
    {
        if (probe)
        {
            Volatile.Write(ref _probing, 0);
        }

        calls.Release();
    }

    private async Task RunAsync(PendingCreate job, SemaphoreSlim calls, bool probe, CancellationToken stoppingToken)
    {
        using var renewing = new CancellationTokenSource();
        var renewed = renewal.RenewUntilAsync(job, renewing.Token);
        try
        {
            await attempt.RunAsync(job, renewing, stoppingToken);
        }
        catch (Exception e)
        {
            // The ledger could not be told (the database is away). The claim lapses; the request is
            // then taken as abandoned and handled by the ambiguous-create rule, never blindly repeated.
            GenerationLog.LaunchFailed(logger, e.Message);
        }
        finally
        {
            await renewing.CancelAsync();
            await renewed;
            claims.Forget(job.Command.RequestId);
            EndTurn(calls, probe);
            signal.Pulse();
        }
    }
}
