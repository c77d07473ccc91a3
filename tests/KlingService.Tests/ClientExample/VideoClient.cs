// The README's "Client teams" example, compiled and run by ClientExampleTests: the README shows this
// file's text between the markers, and a test fails when the two differ.
// <client-example>
using System.Text.Json.Serialization;
using KlingService.Contracts;
using MassTransit;

namespace MyTeam.Videos;

public static class VideoClient
{
    public static async Task<(VideoJobStatus Status, object Outcome)> GenerateAsync(Uri rabbitMq, string image, string prompt)
    {
        var requestId = Guid.NewGuid();
        var outcome = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(rabbitMq);
            // The contract's enums travel by name ("Professional").
            cfg.ConfigureJsonSerializerOptions(o => { if (!o.Converters.OfType<JsonStringEnumConverter>().Any()) o.Converters.Add(new JsonStringEnumConverter()); return o; });
            // Our queues' names start with our broker user's, "my-team.": the only ones it may declare (see Broker users).
            // The bus's own queue takes GetVideoJob's answer.
            cfg.OverrideDefaultBusEndpointQueueName($"my-team.bus-{Guid.NewGuid():N}");
            // A temporary queue of our own, bound to the events: our request's ending completes the outcome.
            cfg.ReceiveEndpoint($"my-team.events-{Guid.NewGuid():N}", e =>
            {
                e.AutoDelete = true;
                e.Durable = false;
                e.Handler<VideoReady>(c => Task.FromResult(c.Message.RequestId == requestId && outcome.TrySetResult(c.Message)));
                e.Handler<VideoFailed>(c => Task.FromResult(c.Message.RequestId == requestId && outcome.TrySetResult(c.Message)));
            });
        });
        await bus.StartAsync();
        var queue = await bus.GetSendEndpoint(new Uri("queue:generate-video"));
        await queue.Send(new GenerateVideo(requestId, image, prompt, VideoMode.Standard, DurationSeconds: 5));
        var status = await bus.CreateRequestClient<GetVideoJob>(new Uri("queue:get-video-job")).GetResponse<VideoJobStatus>(new GetVideoJob(requestId));
        var ended = await outcome.Task.WaitAsync(TimeSpan.FromMinutes(30));
        await bus.StopAsync();
        return (status.Message, ended);
    }
}
// </client-example>
