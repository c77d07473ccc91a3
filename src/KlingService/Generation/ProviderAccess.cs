using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace KlingService.Generation;

/// <summary>
/// What this instance has learned about using the account right now: a 429 says the account is full
/// until its Retry-After, whatever the ledger counts; a 401/403 says the key is refused, and no create
/// call is made until a probe gets through. Readable by the health check, so an operator sees a
/// refused key on <c>/health/ready</c>.
/// </summary>
public sealed class ProviderAccess(TimeProvider time) : IHealthCheck
{
    private readonly Lock _gate = new();
    private DateTimeOffset _busyUntil = DateTimeOffset.MinValue;
    private DateTimeOffset? _refusedSince;
    private DateTimeOffset? _unbrokenSince;
    private DateTimeOffset _probeAt = DateTimeOffset.MinValue;
    private int _refusals;

    /// <summary>The earliest time a create call may be made.</summary>
    public DateTimeOffset OpenAt
    {
        get
        {
            lock (_gate)
            {
                return _busyUntil > _probeAt ? _busyUntil : _probeAt;
            }
        }
    }

    /// <summary>When the key was first refused in the current run of refusals; null while it works.</summary>
    public DateTimeOffset? RefusedSince
    {
        get
        {
            lock (_gate)
            {
                return _refusedSince;
            }
        }
    }

    /// <summary>
    /// When the current run of refusals with no other answer in between began; null when the last answer was not a
    /// refusal. Only such a run, lasting the whole grace, fails waiting jobs as Unauthorized.
    /// </summary>
    public DateTimeOffset? RefusedUnbrokenSince
    {
        get
        {
            lock (_gate)
            {
                return _unbrokenSince;
            }
        }
    }

    /// <summary>
    /// The provider answered a create with something other than a refusal (a 429, a 503): the run of refusals is
    /// broken. Probing goes on, paced as before, until a create gets through.
    /// </summary>
    public void AnsweredWithoutRefusal()
    {
        lock (_gate)
        {
            _unbrokenSince = null;
        }
    }

    public void Busy(TimeSpan wait)
    {
        lock (_gate)
        {
            var until = time.GetUtcNow() + wait;
            _busyUntil = until > _busyUntil ? until : _busyUntil;
        }
    }

    /// <summary>
    /// Records a refused key and returns the pause before the next probe, growing with each probe
    /// refused; calls already in flight when the first refusal came do not grow it.
    /// </summary>
    public TimeSpan Refused(TimeSpan firstPause, TimeSpan maxPause)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            if (_refusedSince is not null && now < _probeAt)
            {
                return _probeAt - now;
            }

            _refusedSince ??= now;
            _unbrokenSince ??= now;
            _refusals++;
            var pause = Backoff.Delay(_refusals, firstPause, maxPause, spread: 0);
            _probeAt = now + pause;
            return pause;
        }
    }

    /// <summary>A create call got through: the key works again. True when it had been refused.</summary>
    public bool Accepted()
    {
        lock (_gate)
        {
            var wasRefused = _refusedSince is not null;
            _refusedSince = null;
            _unbrokenSince = null;
            _refusals = 0;
            _probeAt = DateTimeOffset.MinValue;
            return wasRefused;
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(RefusedSince is { } since
            ? HealthCheckResult.Degraded($"Kling has refused the API key since {since:u}; launching is paused.")
            : HealthCheckResult.Healthy());
}
