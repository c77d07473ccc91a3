using System.Security.Cryptography;
using KlingService.Simulator;
using KlingService.Storage;

namespace KlingService.Tests.Storage;

public sealed class CheckedVideoStreamTests
{
    private static readonly byte[] Video = SimulatedVideo.BytesFor("sim-checked");

    [Fact]
    public async Task A_whole_MP4_passes_through_unchanged_with_its_size_and_SHA_256()
    {
        using var checkedStream = new CheckedVideoStream(new TrickleStream(Video, 3), Video.Length, maxBytes: 1_000_000);
        using var copy = new MemoryStream();

        await checkedStream.CopyToAsync(copy);

        Assert.Equal(Video, copy.ToArray());
        Assert.Equal(Video.Length, checkedStream.BytesRead);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Video)), checkedStream.Sha256Hex);
    }

    [Fact]
    public async Task A_page_that_is_not_an_MP4_is_refused_at_its_first_bytes()
    {
        var page = "<html><body>Sign in</body></html>"u8.ToArray();
        using var checkedStream = new CheckedVideoStream(new TrickleStream(page, 2), page.Length, maxBytes: 1_000_000);

        var failure = await Assert.ThrowsAsync<VideoStoreException>(() => checkedStream.CopyToAsync(Stream.Null));

        Assert.Equal(StoreFailureReason.NotMp4, failure.Reason);
        Assert.True(checkedStream.BytesRead < 16, "Refused before reading on.");
    }

    [Fact]
    public async Task A_body_growing_past_the_limit_is_refused_even_without_a_declared_length()
    {
        using var checkedStream = new CheckedVideoStream(new TrickleStream(Video, 100), declaredLength: null, maxBytes: Video.Length - 1);

        var failure = await Assert.ThrowsAsync<VideoStoreException>(() => checkedStream.CopyToAsync(Stream.Null));

        Assert.Equal(StoreFailureReason.TooLarge, failure.Reason);
    }

    [Fact]
    public async Task A_body_shorter_than_its_declared_length_fails_at_its_end()
    {
        var half = Video[..(Video.Length / 2)];
        using var checkedStream = new CheckedVideoStream(new TrickleStream(half, 100), Video.Length, maxBytes: 1_000_000);

        var failure = await Assert.ThrowsAsync<VideoStoreException>(() => checkedStream.CopyToAsync(Stream.Null));

        Assert.Equal(StoreFailureReason.Truncated, failure.Reason);
        Assert.Throws<InvalidOperationException>(() => checkedStream.Sha256Hex);
    }

    [Fact]
    public async Task A_connection_lost_mid_body_is_a_truncation()
    {
        using var checkedStream = new CheckedVideoStream(new TrickleStream(Video, 100, failAfter: 200), Video.Length, maxBytes: 1_000_000);

        var failure = await Assert.ThrowsAsync<VideoStoreException>(() => checkedStream.CopyToAsync(Stream.Null));

        Assert.Equal(StoreFailureReason.Truncated, failure.Reason);
        Assert.IsType<IOException>(failure.InnerException);
    }

    /// <summary>A source that hands out a few bytes per read, as a network stream does, and can break off.</summary>
    private sealed class TrickleStream(byte[] bytes, int perRead, int failAfter = int.MaxValue) : MemoryStream(bytes, writable: false)
    {
        public override int Read(Span<byte> buffer)
        {
            if (Position >= failAfter)
            {
                throw new IOException("The response ended prematurely.");
            }

            return base.Read(buffer[..Math.Min(buffer.Length, perRead)]);
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));
    }
}
