using System.Buffers.Binary;

namespace KlingService.Generation;

/// <summary>Reads an image's format and pixel size from its header, without decoding the picture.</summary>
public static class ImageProbe
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static bool TryReadSize(ReadOnlySpan<byte> image, out string format, out int width, out int height)
    {
        (format, width, height) = ("", 0, 0);
        if (image.StartsWith(PngSignature))
        {
            // IHDR is always the first chunk: length(4) type(4) width(4) height(4).
            if (image.Length < 24 || !image.Slice(12, 4).SequenceEqual("IHDR"u8))
            {
                return false;
            }

            (format, width, height) = ("png", BinaryPrimitives.ReadInt32BigEndian(image[16..]), BinaryPrimitives.ReadInt32BigEndian(image[20..]));
            return true;
        }

        return image is [0xFF, 0xD8, ..] && TryReadJpegFrame(image, out format, out width, out height);
    }

    private static bool TryReadJpegFrame(ReadOnlySpan<byte> image, out string format, out int width, out int height)
    {
        (format, width, height) = ("", 0, 0);
        var position = 2;
        while (position + 4 <= image.Length)
        {
            if (image[position] != 0xFF)
            {
                return false;
            }

            var marker = image[position + 1];
            if (marker == 0xFF)
            {
                position++; // fill byte
                continue;
            }

            var segmentLength = BinaryPrimitives.ReadUInt16BigEndian(image[(position + 2)..]);
            var isStartOfFrame = marker is >= 0xC0 and <= 0xCF && marker is not (0xC4 or 0xC8 or 0xCC);
            if (isStartOfFrame)
            {
                // SOF: length(2) precision(1) height(2) width(2)
                if (position + 9 > image.Length)
                {
                    return false;
                }

                height = BinaryPrimitives.ReadUInt16BigEndian(image[(position + 5)..]);
                width = BinaryPrimitives.ReadUInt16BigEndian(image[(position + 7)..]);
                format = "jpeg";
                return true;
            }

            position += 2 + segmentLength;
        }

        return false;
    }
}
