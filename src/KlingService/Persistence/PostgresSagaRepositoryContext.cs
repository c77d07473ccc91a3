using KlingService.Generation;
using MassTransit;
using MassTransit.Context;
using MassTransit.Saga;

namespace KlingService.Persistence;

/// <summary>The saga repository's view of one message, bound to that message's <see cref="SagaSession"/>.</summary>
public sealed class PostgresSagaRepositoryContext<TMessage> : ConsumeContextScope<TMessage>, SagaRepositoryContext<VideoJobState, TMessage>
    where TMessage : class
{
    private readonly SagaSession _session;
    private readonly ConsumeContext<TMessage> _consumeContext;
    private readonly ISagaConsumeContextFactory<SagaSession, VideoJobState> _factory;

    public PostgresSagaRepositoryContext(SagaSession session, ConsumeContext<TMessage> consumeContext, ISagaConsumeContextFactory<SagaSession, VideoJobState> factory)
        : base(consumeContext, session)
    {
        _session = session;
        _consumeContext = consumeContext;
        _factory = factory;
    }

    public Task<SagaConsumeContext<VideoJobState, T>> CreateSagaConsumeContext<T>(ConsumeContext<T> context, VideoJobState instance, SagaConsumeContextMode mode)
        where T : class =>
        _factory.CreateSagaConsumeContext(_session, context, instance, mode);

    public Task<SagaConsumeContext<VideoJobState, TMessage>> Add(VideoJobState instance) =>
        _factory.CreateSagaConsumeContext(_session, _consumeContext, instance, SagaConsumeContextMode.Add);

    public async Task<SagaConsumeContext<VideoJobState, TMessage>> Insert(VideoJobState instance) =>
        await _session.InsertAsync(instance, CancellationToken)
            ? await _factory.CreateSagaConsumeContext(_session, _consumeContext, instance, SagaConsumeContextMode.Insert)
            : null!; // a twin exists: MassTransit loads it instead

    public async Task<SagaConsumeContext<VideoJobState, TMessage>> Load(Guid correlationId) =>
        await _session.LoadAsync(correlationId, forUpdate: true, CancellationToken) is { } instance
            ? await _factory.CreateSagaConsumeContext(_session, _consumeContext, instance, SagaConsumeContextMode.Load)
            : null!;

    public async Task Save(SagaConsumeContext<VideoJobState> context)
    {
        if (!await _session.InsertAsync(context.Saga, CancellationToken))
        {
            throw new SagaConcurrencyException(context.Saga.CorrelationId, 0);
        }
    }

    // Written with the message's outbox rows in one batch before the commit (see SagaSession.StageUpdate).
    public Task Update(SagaConsumeContext<VideoJobState> context)
    {
        _session.StageUpdate(context.Saga);
        return Task.CompletedTask;
    }

    public Task Delete(SagaConsumeContext<VideoJobState> context) => _session.DeleteAsync(context.Saga, CancellationToken);

    public Task Discard(SagaConsumeContext<VideoJobState> context) => Task.CompletedTask;

    public Task Undo(SagaConsumeContext<VideoJobState> context) => Task.CompletedTask;
}
