using Microsoft.Net.Http.Headers;

namespace KlingService.Simulator;

/// <summary>How a video download's body goes out.</summary>
public enum VideoDelivery
{
    /// <summary>All at once.</summary>
    Whole,

    /// <summary>Headers at once, then the body in pieces that complete only after the slow duration.</summary>
    Slow,

    /// <summary>The full Content-Length is declared, about half the bytes are sent, then the connection is aborted.</summary>
    Truncated,
}

/// <summary>
/// A task's video (see <see cref="SimulatedVideo.BytesFor"/>), optionally padded with a large <c>free</c> box to
/// <c>totalBytes</c>, delivered whole, slowly or truncated. The padding is written in chunks, never held in memory.
/// </summary>
public sealed class VideoResult(string taskId, long totalBytes, VideoDelivery delivery, TimeSpan slowFor, TimeProvider time) : IResult
{
    private const int ChunkBytes = 64 * 1024;
    private const int SlowPieces = 5;
    private static readonly TimeSpan TruncateGrace = TimeSpan.FromMilliseconds(200);
    private static readonly byte[] Zeros = new byte[ChunkBytes];

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var video = SimulatedVideo.BytesFor(taskId);
        // Too small a size to hold the video and an empty free box: the video is served as it is.
        var total = totalBytes >= video.Length + SimulatedVideo.FreeBoxHeaderBytes ? totalBytes : video.Length;
        var padding = total > video.Length ? SimulatedVideo.FreeBoxHeader(total - video.Length) : [];
        var response = httpContext.Response;
        var aborted = httpContext.RequestAborted;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = SimulatedVideo.ContentType;
        response.ContentLength = total;
        var disposition = new ContentDispositionHeaderValue("attachment");
        disposition.SetHttpFileName($"{taskId}.mp4");
        response.Headers.ContentDisposition = disposition.ToString();

        try
        {
            switch (delivery)
            {
                case VideoDelivery.Slow:
                    await response.StartAsync(aborted);
                    await response.Body.FlushAsync(aborted);
                    for (var piece = 0; piece < SlowPieces; piece++)
                    {
                        if (piece > 0)
                        {
                            await Task.Delay(slowFor / (SlowPieces - 1), time, aborted);
                        }

                        var from = piece * total / SlowPieces;
                        var to = (piece + 1) * total / SlowPieces;
                        await WriteAsync(response.Body, video, padding, from, to - from, aborted);
                        await response.Body.FlushAsync(aborted);
                    }

                    break;

                case VideoDelivery.Truncated:
                    await WriteAsync(response.Body, video, padding, 0, total / 2, aborted);
                    await response.Body.FlushAsync(aborted);
                    // Real time, not the simulated clock: let the transport put the headers and the half on the wire
                    // before the abort, which would otherwise discard them and fail the call before its headers.
                    await Task.Delay(TruncateGrace, aborted);
                    httpContext.Abort();
                    break;

                default:
                    await WriteAsync(response.Body, video, padding, 0, total, aborted);
                    break;
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            // The client hung up: there is no one left to answer.
        }
    }

    /// <summary>Writes <paramref name="count"/> bytes of the body from <paramref name="from"/>: the video, the padding box's header, then zeros.</summary>
    private static async Task WriteAsync(Stream body, byte[] video, byte[] padding, long from, long count, CancellationToken cancellationToken)
    {
        var at = from;
        var end = from + count;
        while (at < end)
        {
            var left = end - at;
            ReadOnlyMemory<byte> chunk = at < video.Length ? video.AsMemory((int)at)
                : at < video.Length + padding.Length ? padding.AsMemory((int)(at - video.Length))
                : Zeros;
            chunk = chunk[..(int)Math.Min(chunk.Length, left)];
            await body.WriteAsync(chunk, cancellationToken);
            at += chunk.Length;
        }
    }
}
