namespace KlingService.Persistence;

/// <summary>Another message changed the saga first; the endpoint's retry handles the message again.</summary>
public sealed class SagaConcurrencyException(Guid correlationId, int expectedVersion)
    : Exception($"Saga {correlationId} was changed by another message (expected version {expectedVersion}).");
