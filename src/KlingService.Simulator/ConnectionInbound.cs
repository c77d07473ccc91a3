using System.Net.Sockets;
using System.Text;

namespace KlingService.Simulator;

/// <summary>What a client sent and the front has not handled yet; one receive outstanding at a time.</summary>
internal sealed class ConnectionInbound(Socket socket, CancellationToken stopping)
{
    private const int MaxHeadBytes = 64 * 1024;
    private readonly byte[] _chunk = new byte[64 * 1024];
    private readonly MemoryStream _unread = new();
    private Task<int>? _receiving;

    public bool HasUnread => _unread.Length > 0 || _receiving is { IsCompletedSuccessfully: true, Result: > 0 };

    public Task<int> ReceiveAsync()
    {
        if (_receiving is { IsCompleted: true })
        {
            _receiving = null;
        }

        return _receiving ??= ReceiveCoreAsync();
    }

    public async Task<bool> WaitForDataAsync() => _unread.Length > 0 || await ReceiveAsync() > 0;

    /// <summary>The next request, head and body; empty when it has no Content-Length (the front needs one); null when the client closed.</summary>
    public async Task<byte[]?> ReadRequestAsync()
    {
        int headEnd;
        while ((headEnd = _unread.GetBuffer().AsSpan(0, (int)_unread.Length).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (_unread.Length > MaxHeadBytes || await ReceiveAsync() == 0)
            {
                return null;
            }
        }

        var head = Encoding.ASCII.GetString(_unread.GetBuffer(), 0, headEnd);
        var length = head.Split("\r\n").Where(line => ConnectionFront.IsHeader(line, "Content-Length")).Select(line => (long?)long.Parse(line[15..].Trim())).FirstOrDefault();
        var chunked = head.Split("\r\n").Any(line => ConnectionFront.IsHeader(line, "Transfer-Encoding"));
        if (chunked || (length is null && !head.StartsWith("GET ", StringComparison.Ordinal)))
        {
            return [];
        }

        var total = headEnd + 4 + (int)(length ?? 0);
        while (_unread.Length < total)
        {
            if (await ReceiveAsync() == 0)
            {
                return null;
            }
        }

        var request = _unread.GetBuffer().AsSpan(0, total).ToArray();
        var rest = _unread.GetBuffer().AsSpan(total, (int)_unread.Length - total).ToArray();
        _unread.SetLength(0);
        _unread.Write(rest);
        return request;
    }

    private async Task<int> ReceiveCoreAsync()
    {
        var read = await socket.ReceiveAsync(_chunk, SocketFlags.None, stopping);
        _unread.Write(_chunk, 0, read);
        return read;
    }
}
