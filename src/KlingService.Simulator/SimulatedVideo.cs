using System.Buffers.Binary;
using System.Text;

namespace KlingService.Simulator;

/// <summary>
/// The MP4 the simulator serves for a task: the embedded sample with a top-level <c>free</c> box appended whose
/// payload names the task. Players skip <c>free</c> boxes, so every task's file is playable, starts with the
/// sample's <c>ftyp</c> box, and differs from every other task's; the same task id always gives the same bytes.
/// </summary>
public static class SimulatedVideo
{
    /// <summary>The content type of a served video.</summary>
    public const string ContentType = "video/mp4";

    /// <summary>The size of a <c>free</c> box's header, and so of an empty <c>free</c> box.</summary>
    public const int FreeBoxHeaderBytes = BoxHeader;

    private const int BoxHeader = 8;
    private const int LargeBoxHeader = 16;
    private static readonly byte[] Marker = "kling-simulator task_id="u8.ToArray();
    private static readonly Lazy<byte[]> SampleBytes = new(ReadSample);

    /// <summary>The embedded sample every served video starts from.</summary>
    public static ReadOnlySpan<byte> Sample => SampleBytes.Value;

    /// <summary>Exactly the bytes <c>GET /videos/{taskId}.mp4</c> serves for the task when no fault is injected.</summary>
    public static byte[] BytesFor(string taskId)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        var sample = SampleBytes.Value;
        var id = Encoding.UTF8.GetBytes(taskId);
        var boxSize = BoxHeader + Marker.Length + id.Length;
        var bytes = new byte[sample.Length + boxSize];
        sample.CopyTo(bytes, 0);
        var box = bytes.AsSpan(sample.Length);
        BinaryPrimitives.WriteUInt32BigEndian(box, (uint)boxSize);
        "free"u8.CopyTo(box[4..]);
        Marker.CopyTo(box[BoxHeader..]);
        id.CopyTo(box[(BoxHeader + Marker.Length)..]);
        return bytes;
    }

    /// <summary>
    /// The header of a top-level <c>free</c> box of <paramref name="boxSize"/> bytes in all (header included): the
    /// 8-byte form, or the 16-byte 64-bit form when the size does not fit 32 bits. Its payload is whatever follows.
    /// </summary>
    public static byte[] FreeBoxHeader(long boxSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(boxSize, MinFreeBoxSize(boxSize));
        if (boxSize <= uint.MaxValue)
        {
            var header = new byte[BoxHeader];
            BinaryPrimitives.WriteUInt32BigEndian(header, (uint)boxSize);
            "free"u8.CopyTo(header.AsSpan(4));
            return header;
        }

        var large = new byte[LargeBoxHeader];
        BinaryPrimitives.WriteUInt32BigEndian(large, 1);
        "free"u8.CopyTo(large.AsSpan(4));
        BinaryPrimitives.WriteUInt64BigEndian(large.AsSpan(8), (ulong)boxSize);
        return large;
    }

    private static long MinFreeBoxSize(long boxSize) => boxSize <= uint.MaxValue ? BoxHeader : LargeBoxHeader;

    private static byte[] ReadSample()
    {
        using var stream = typeof(SimulatedVideo).Assembly.GetManifestResourceStream("sample.mp4")
            ?? throw new InvalidOperationException("The embedded sample.mp4 is missing.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
