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
/// It is also the saga's transactional outbox: the saga handles the message through a
/// <see cref="SagaOutboxConsumeContext{TMessage}"/>, so what it publishes, sends and schedules is
/// written into <c>kling_scheduled_messages</c> in the same transaction as its new state, and the
/// dispatcher, poked once the commit is done, sends it.
/// </summary>
public sealed class PostgresSagaRepositoryContextFactory(
    NpgsqlDataSource dataSource,
    ISagaConsumeContextFactory<SagaSession, VideoJobState> factory,
    IServiceProvider provider,
    OutboxSignal signal,
    ICommitObserver commits)
    : ISagaRepositoryContextFactory<VideoJobState>, ILoadSagaRepositoryContextFactory<VideoJobState>
{
    public async Task Send<T>(ConsumeContext<T> context, IPipe<SagaRepositoryContext<VideoJobState, T>> next)
        where T : class
    {
        await using var session = await SagaSession.BeginAsync(dataSource, context.CancellationToken);
        var outbox = new SagaOutbox();
        await next.Send(new PostgresSagaRepositoryContext<T>(session, new SagaOutboxConsumeContext<T>(context, provider, outbox), factory));
        await session.WriteOutboxAsync(outbox.Entries, context.CancellationToken);
        await session.CommitAsync(context.CancellationToken);
        if (session.Finalized)
        {
            commits.SagaFinalCommitted();
        }

        if (outbox.HasMessages)
        {
            signal.Poke();
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
