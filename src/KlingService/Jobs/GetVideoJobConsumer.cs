using KlingService.Contracts;
using KlingService.Generation;
using MassTransit;

namespace KlingService.Jobs;

/// <summary>Answers "what happened to my request?" from the job records, without locking a generating job.</summary>
public sealed class GetVideoJobConsumer(IRequestLedger ledger) : IConsumer<GetVideoJob>
{
    public async Task Consume(ConsumeContext<GetVideoJob> context)
    {
        var requestId = context.Message.RequestId;
        var record = await ledger.GetRecordAsync(requestId, context.CancellationToken);
        await context.RespondAsync(JobStatusView.From(requestId, record));
    }
}
