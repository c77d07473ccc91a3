using System.Security.Cryptography;

namespace KlingService.Storage;

/// <summary>
/// A download's body on its way to the store: refuses it as soon as it is not an MP4 (the first box is not
/// <c>ftyp</c>) or grows past the size limit, hashes it as it passes, and at its end fails a body shorter than
/// the length the server declared, so a store never commits a partial or a wrong file.
/// </summary>
public sealed class CheckedVideoStream(Stream source, long? declaredLength, long maxBytes) : Stream
{
    private const int BoxHeader = 8;
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _header = new byte[BoxHeader];
    private bool _ended;

    public long BytesRead { get; private set; }

    /// <summary>The SHA-256 of the whole body, lowercase hex; only once the stream has been read to its end.</summary>
    public string Sha256Hex => _ended
        ? Convert.ToHexStringLower(_sha256.GetCurrentHash())
        : throw new InvalidOperationException("The body has not been read to its end.");

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read;
        try
        {
            read = source.Read(buffer);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw Interrupted(e);
        }

        return Check(buffer[..read]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read;
        try
        {
            read = await source.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw Interrupted(e);
        }

        return Check(buffer.Span[..read]);
    }

    private int Check(ReadOnlySpan<byte> chunk)
    {
        if (chunk.IsEmpty)
        {
            End();
            return 0;
        }

        if (BytesRead < BoxHeader)
        {
            var take = (int)Math.Min(chunk.Length, BoxHeader - BytesRead);
            chunk[..take].CopyTo(_header.AsSpan((int)BytesRead));
            if (BytesRead + take == BoxHeader && !IsFtyp(_header))
            {
                throw NotMp4();
            }
        }

        BytesRead += chunk.Length;
        if (BytesRead > maxBytes)
        {
            throw new VideoStoreException(StoreFailureReason.TooLarge, $"The video is larger than Storage:MaxVideoBytes ({maxBytes} bytes).");
        }

        _sha256.AppendData(chunk);
        return chunk.Length;
    }

    private void End()
    {
        if (_ended)
        {
            return;
        }

        if (declaredLength is { } declared && BytesRead != declared)
        {
            throw new VideoStoreException(StoreFailureReason.Truncated, $"The download ended after {BytesRead} of its {declared} bytes.");
        }

        if (BytesRead < BoxHeader)
        {
            throw NotMp4();
        }

        _ended = true;
    }

    private VideoStoreException Interrupted(Exception e) =>
        declaredLength is { } declared && BytesRead < declared
            ? new VideoStoreException(StoreFailureReason.Truncated, $"The download broke off after {BytesRead} of its {declared} bytes.", e)
            : new VideoStoreException(StoreFailureReason.DownloadFailed, $"The download broke off after {BytesRead} bytes.", e);

    private static VideoStoreException NotMp4() =>
        new(StoreFailureReason.NotMp4, "The download is not an MP4 (its first box is not 'ftyp').");

    private static bool IsFtyp(ReadOnlySpan<byte> header) => header[4..8].SequenceEqual("ftyp"u8);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sha256.Dispose();
            source.Dispose();
        }

        base.Dispose(disposing);
    }
}
