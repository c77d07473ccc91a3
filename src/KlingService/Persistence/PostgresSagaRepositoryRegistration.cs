using KlingService.Generation;
using MassTransit;
using MassTransit.Configuration;
using MassTransit.Saga;

namespace KlingService.Persistence;

public static class PostgresSagaRepositoryRegistration
{
    /// <summary>Keeps video job sagas in PostgreSQL (see <see cref="PostgresSagaRepositoryContextFactory"/>).</summary>
    public static ISagaRegistrationConfigurator<VideoJobState> PostgresRepository(this ISagaRegistrationConfigurator<VideoJobState> saga)
    {
        saga.Repository(repository =>
        {
            repository.RegisterSagaRepository<VideoJobState, SagaSession, SagaConsumeContextFactory<SagaSession, VideoJobState>, PostgresSagaRepositoryContextFactory>();
            repository.RegisterLoadSagaRepository<VideoJobState, PostgresSagaRepositoryContextFactory>();
        });
        return saga;
    }
}
