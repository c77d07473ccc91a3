using System.Text.RegularExpressions;
using KlingService.Contracts;

namespace KlingService.Generation;

/// <summary>
/// The provider's documented rules, checked before any money is spent. Each problem names the field
/// so the client can fix its command without reading our logs.
/// </summary>
public static partial class GenerateVideoValidator
{
    public const int MaxTextLength = 2500;
    public const int MaxImageBytes = 10 * 1024 * 1024;
    public const int MinImageSide = 300;

    // Base64 grows data by 4/3; anything longer cannot decode to an image within the limit.
    private const int MaxBase64Length = (MaxImageBytes + 2) / 3 * 4;

    public static string? FindProblem(GenerateVideo command)
    {
        if (command.RequestId == Guid.Empty)
        {
            return "RequestId: must be a non-empty GUID.";
        }

        if (string.IsNullOrWhiteSpace(command.Prompt))
        {
            return "Prompt: is required.";
        }

        if (command.Prompt.Length > MaxTextLength)
        {
            return $"Prompt: must be at most {MaxTextLength} characters (was {command.Prompt.Length}).";
        }

        if (command.NegativePrompt is { Length: > MaxTextLength })
        {
            return $"NegativePrompt: must be at most {MaxTextLength} characters (was {command.NegativePrompt.Length}).";
        }

        if (!Enum.IsDefined(command.Mode))
        {
            return $"Mode: must be Standard or Professional (was {command.Mode}).";
        }

        if (command.DurationSeconds is not (5 or 10))
        {
            return $"DurationSeconds: must be 5 or 10 (was {command.DurationSeconds}).";
        }

        if (command.GuidanceScale is { } guidance && !IsValidGuidance(guidance))
        {
            return $"GuidanceScale: must be between 0 and 1 in steps of 0.01 (was {guidance}).";
        }

        return FindImageProblem(command.Image);
    }

    private static bool IsValidGuidance(double value)
    {
        var hundredths = value * 100;
        return value is >= 0 and <= 1 && Math.Abs(hundredths - Math.Round(hundredths)) < 1e-6;
    }

    /// <summary>What browsers, CDNs and the provider's own gateway reliably pass; longer ones fail unpredictably, after the job was accepted.</summary>
    public const int MaxImageUrlLength = 2048;

    private static string? FindImageProblem(string? image)
    {
        if (string.IsNullOrWhiteSpace(image))
        {
            return "Image: is required (an http(s) URL or base64 PNG/JPEG data).";
        }

        if (image.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || image.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            if (image.Length > MaxImageUrlLength)
            {
                return $"Image: a URL may be at most {MaxImageUrlLength} characters.";
            }

            if (!Uri.TryCreate(image, UriKind.Absolute, out var url) || url.Host.Length == 0)
            {
                return "Image: is not a valid absolute http(s) URL.";
            }

            // Credentials in a URL would travel to the provider and into every log line and trace that names the image.
            return url.UserInfo.Length > 0 ? "Image: a URL must not carry a user name or password." : null;
        }

        if (image.Contains("://", StringComparison.Ordinal))
        {
            return "Image: a URL must use http or https.";
        }

        var payload = image;
        if (image.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            var match = DataUriPrefix().Match(image);
            if (!match.Success)
            {
                return "Image: a data URI must look like data:image/png;base64,... or data:image/jpeg;base64,...";
            }

            payload = image[match.Length..];
        }

        if (payload.Length > MaxBase64Length)
        {
            return $"Image: must not exceed {MaxImageBytes / 1024 / 1024} MB.";
        }

        var bytes = new byte[payload.Length / 4 * 3 + 3];
        if (!Convert.TryFromBase64String(payload, bytes, out var length))
        {
            return "Image: is neither an http(s) URL nor valid base64 data.";
        }

        if (length > MaxImageBytes)
        {
            return $"Image: must not exceed {MaxImageBytes / 1024 / 1024} MB.";
        }

        if (!ImageProbe.TryReadSize(bytes.AsSpan(0, length), out _, out var width, out var height))
        {
            return "Image: must be a PNG or JPEG image.";
        }

        return width < MinImageSide || height < MinImageSide
            ? $"Image: must be at least {MinImageSide}x{MinImageSide} pixels (was {width}x{height})."
            : null;
    }

    [GeneratedRegex("^data:image/(png|jpe?g);base64,", RegexOptions.IgnoreCase)]
    private static partial Regex DataUriPrefix();
}
