using KlingService.Generation;
using MassTransit.Middleware;
using MassTransit.Saga;

namespace KlingService.Persistence;

/// <summary>Reads a saga outside of message handling (the test harness and diagnostics use it).</summary>
public sealed class PostgresSagaLoadContext(SagaSession session, CancellationToken cancellationToken)
    : BasePipeContext(cancellationToken), LoadSagaRepositoryContext<VideoJobState>
{
    public Task<VideoJobState> Load(Guid correlationId) =>
        session.LoadAsync(correlationId, forUpdate: false, CancellationToken)!;
}
