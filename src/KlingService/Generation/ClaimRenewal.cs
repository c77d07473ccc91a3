namespace KlingService.Generation;

/// <summary>Keeps a create attempt's claim alive while its call runs, so only a dead (or cut-off) holder lets it lapse.</summary>
public sealed class ClaimRenewal(IRequestLedger ledger, InFlightClaims claims, TimeProvider time, ILogger<ClaimRenewal> logger)
{
    /// <summary>How long a claim holds unless renewed; it is renewed a few times per lease.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    /// <summary>Renews the claim on <paramref name="job"/> until <paramref name="done"/> fires.</summary>
    public async Task RenewUntilAsync(PendingCreate job, CancellationToken done)
    {
        var lost = false;
        while (!done.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Lease / 3, time, done);
                var held = await ledger.RenewAsync(job.Command.RequestId, claims.ClaimOf(job), Lease, done);
                if (!held && !lost)
                {
                    // Renewal goes on: the claim may come back to this attempt (see InFlightClaims).
                    GenerationLog.ClaimLost(logger, job.Command.RequestId);
                }

                lost = !held;
            }
            catch (OperationCanceledException) when (done.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The database blinked: the next renewal may get through before the lease lapses.
                GenerationLog.LaunchFailed(logger, e.Message);
            }
        }
    }
}
