using System.Buffers.Binary;

namespace KlingService.Tests.Fixtures;

/// <summary>Image bytes with chosen headers: enough for validation, which reads only the header.</summary>
public static class Images
{
    public static byte[] Png(int width, int height, int padTo = 64)
    {
        var bytes = new byte[Math.Max(padTo, 33)];
        new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R' }.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(20), height);
        bytes[24] = 8;
        bytes[25] = 2;
        return bytes;
    }

    public static byte[] Jpeg(int width, int height)
    {
        // SOI, an APP0 segment to walk past, then SOF0 with the size.
        var bytes = new List<byte> { 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10 };
        bytes.AddRange("JFIF\0"u8.ToArray());
        bytes.AddRange(new byte[9]);
        bytes.AddRange([0xFF, 0xC0, 0x00, 0x11, 0x08, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 0x03]);
        bytes.AddRange(new byte[9]);
        bytes.AddRange([0xFF, 0xD9]);
        return [.. bytes];
    }

    public static string Base64Png(int width = 320, int height = 320) => Convert.ToBase64String(Png(width, height));

    public static string DataUriJpeg(int width = 640, int height = 480) => "data:image/jpeg;base64," + Convert.ToBase64String(Jpeg(width, height));
}
