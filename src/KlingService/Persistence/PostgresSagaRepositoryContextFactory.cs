using KlingService.Generation;
using KlingService.Outbox;
using MassTransit;
using MassTransit.Saga;
using Npgsql;

namespace KlingService.Persistence;

/// <summary>
/// MassTransit's saga repository extension point over PostgreSQL: one transaction per message,
/// the row locked while the message is handled, an insert that refuses a twin, and a version
/// check on every write. Sagas are found by CorrelationId only, so queries are not supported.
/// </summary>
public sealed class PostgresSagaRepositoryContextFactory(
    NpgsqlDataSource dataSource,
    ISagaConsumeContextFactory<SagaSession, VideoJobState> factory)
    : ISagaRepositoryContextFactory<VideoJobState>, ILoadSagaRepositoryContextFactory<VideoJobState>
{
    public async Task Send<T>(ConsumeContext<T> context, IPipe<SagaRepositoryContext<VideoJobState, T>> next)
        where T : class
    {
        await using var session = await SagaSession.BeginAsync(dataSource, context.CancellationToken);
        await next.Send(new PostgresSagaRepositoryContext<T>(session, context, factory));
        await session.CommitAsync(context.CancellationToken);
        if (session.Finalized)
        {
            TestFaultHook.AfterSagaFinalCommit();
        }
    }

    public Task SendQuery<T>(ConsumeContext<T> context, ISagaQuery<VideoJobState> query, IPipe<SagaRepositoryQueryContext<VideoJobState, T>> next)
        where T : class =>
        throw new NotSupportedException("Video job sagas are correlated by CorrelationId only.");

    public async Task<T> Execute<T>(Func<LoadSagaRepositoryContext<VideoJobState>, Task<T>> asyncMethod, CancellationToken cancellationToken = default)
        where T : class
    {
        await using var session = await SagaSession.BeginAsync(dataSource, cancellationToken);
        return await asyncMethod(new PostgresSagaLoadContext(session, cancellationToken));
    }

    public void Probe(ProbeContext context) => context.Add("persistence", "postgresql");
}
