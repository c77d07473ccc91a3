using System.Text.RegularExpressions;

namespace KlingService.Kling;

/// <summary>
/// Text that came from the provider (error bodies, failure reasons) is quoted to clients, logs and
/// spans; a provider or proxy that echoes the request could put the key in it, so it is scrubbed first.
/// </summary>
public static partial class ProviderText
{
    public const string Redacted = "[redacted]";

    public static string Scrub(string text, string? apiKey)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        if (!string.IsNullOrEmpty(apiKey))
        {
            text = text.Replace(apiKey, Redacted, StringComparison.Ordinal);
        }

        return BearerToken().Replace(text, $"Bearer {Redacted}");
    }

    [GeneratedRegex(@"Bearer\s+[^\s""',;]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex BearerToken();
}
