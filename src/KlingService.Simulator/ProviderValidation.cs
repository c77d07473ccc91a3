using System.Buffers.Binary;

namespace KlingService.Simulator;

/// <summary>The provider's own checks of a create request, as its documentation states them.</summary>
public static class ProviderValidation
{
    private const int MaxText = 2500;
    private const int MaxImageBytes = 10 * 1024 * 1024;
    private const int MinSide = 300;
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Returns the first broken rule, or null when the request is acceptable.</summary>
    public static string? FindProblem(CreateTaskBody body)
    {
        if (string.IsNullOrWhiteSpace(body.Prompt) || body.Prompt.Length > MaxText)
        {
            return "prompt is required and must be at most 2500 characters";
        }

        if (body.NegativePrompt is { Length: > MaxText })
        {
            return "negative_prompt must be at most 2500 characters";
        }

        if (body.Mode is not (null or "Standard" or "Professional"))
        {
            return "mode must be Standard or Professional";
        }

        if (body.Duration is not (null or "5" or "10"))
        {
            return "duration must be 5 or 10";
        }

        if (body.GuidanceScale is < 0 or > 1)
        {
            return "guidance_scale must be between 0 and 1";
        }

        return string.IsNullOrWhiteSpace(body.Image) ? "image is required" : FindImageProblem(body.Image);
    }

    private static string? FindImageProblem(string image)
    {
        if (Uri.TryCreate(image, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            return null;
        }

        var comma = image.StartsWith("data:", StringComparison.Ordinal) ? image.IndexOf(',') : -1;
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(image[(comma + 1)..]);
        }
        catch (FormatException)
        {
            return "image must be an http(s) URL or base64 image data";
        }

        if (bytes.Length > MaxImageBytes)
        {
            return "image must not exceed 10MB";
        }

        var size = PixelSize(bytes);
        return size switch
        {
            null => "image must be a .jpg, .jpeg or .png",
            var (w, h) when w < MinSide || h < MinSide => "image resolution must be at least 300x300",
            _ => null,
        };
    }

    private static (int Width, int Height)? PixelSize(ReadOnlySpan<byte> data)
    {
        // PNG: the IHDR chunk follows the 8-byte signature at a fixed place.
        if (data.Length >= 24 && data[..8].SequenceEqual(PngSignature))
        {
            return (BinaryPrimitives.ReadInt32BigEndian(data[16..]), BinaryPrimitives.ReadInt32BigEndian(data[20..]));
        }

        if (data.Length < 4 || data[0] != 0xFF || data[1] != 0xD8)
        {
            return null;
        }

        // JPEG: walk the segments to the first start-of-frame marker.
        for (var at = 2; at + 9 < data.Length;)
        {
            if (data[at] != 0xFF)
            {
                return null;
            }

            var marker = data[at + 1];
            var length = BinaryPrimitives.ReadUInt16BigEndian(data[(at + 2)..]);
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                return (BinaryPrimitives.ReadUInt16BigEndian(data[(at + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(data[(at + 5)..]));
            }

            at += 2 + length;
        }

        return null;
    }
}
