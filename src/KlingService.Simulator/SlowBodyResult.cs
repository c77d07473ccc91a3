using System.Text.Json;

namespace KlingService.Simulator;

/// <summary>
/// A 200 whose headers go out at once while its JSON body trickles in pieces, ending only after <c>duration</c>:
/// a client whose timeout stops at the headers would wait for the body forever.
/// </summary>
public sealed class SlowBodyResult(object body, TimeSpan duration, TimeProvider time) : IResult
{
    private const int Pieces = 5;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body);
        var response = httpContext.Response;
        var aborted = httpContext.RequestAborted;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = bytes.Length;
        try
        {
            await response.StartAsync(aborted);
            await response.Body.FlushAsync(aborted);
            for (var piece = 0; piece < Pieces; piece++)
            {
                if (piece > 0)
                {
                    await Task.Delay(duration / (Pieces - 1), time, aborted);
                }

                var from = piece * bytes.Length / Pieces;
                var to = (piece + 1) * bytes.Length / Pieces;
                await response.Body.WriteAsync(bytes.AsMemory(from, to - from), aborted);
                await response.Body.FlushAsync(aborted);
            }
        }
        catch (OperationCanceledException)
        {
            // The client hung up: there is no one left to answer.
        }
    }
}
