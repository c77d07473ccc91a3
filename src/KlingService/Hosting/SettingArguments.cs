namespace KlingService.Hosting;

/// <summary>
/// The service's own command line is settings, read as the host reads them (<c>--Section:Key=value</c>,
/// <c>--Section:Key value</c>, <c>/Section:Key=value</c>, <c>Section:Key=value</c>). A key the shipped
/// appsettings.json does not name would be ignored without a word, so a typo (<c>--Kling:MaxConcurentTasks</c>)
/// or a stray word is refused before anything starts. appsettings.json names every setting (its test checks it
/// against the options classes), so it is the catalogue.
/// </summary>
public static class SettingArguments
{
    // Read by the host or the framework rather than by an options class: free-form below these prefixes.
    private static readonly string[] OpenPrefixes = ["Logging:", "OTEL_", "Kestrel:"];
    private static readonly HashSet<string> HostKeys = new(["environment", "contentRoot", "applicationName", "AllowedHosts", "shutdownTimeoutSeconds"], StringComparer.OrdinalIgnoreCase);

    /// <summary>The settings file beside the binary, as the catalogue of keys.</summary>
    public static IReadOnlySet<string> Catalogue() => Catalogue(new ConfigurationBuilder()
        .SetBasePath(AppContext.BaseDirectory)
        .AddJsonFile("appsettings.json", optional: true)
        .Build());

    public static IReadOnlySet<string> Catalogue(IConfiguration settings) =>
        settings.AsEnumerable().Where(pair => !settings.GetSection(pair.Key).GetChildren().Any()).Select(pair => pair.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>What is wrong with the first argument that is not a known setting, naming its key but never its value (it may be a secret); null when all are.</summary>
    public static string? FindProblem(IReadOnlyList<string> arguments, IReadOnlySet<string> catalogue)
    {
        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            var prefixed = argument.StartsWith("--", StringComparison.Ordinal) ? 2 : argument.StartsWith('/') ? 1 : 0;
            var text = argument[prefixed..];
            var equals = text.IndexOf('=', StringComparison.Ordinal);
            if (prefixed == 0 && equals < 0)
            {
                // Cut short: a stray word may be the second half of a secret split by an unquoted space.
                var shown = argument.Length > 12 ? $"{argument[..6]}…" : argument;
                return $"unexpected argument '{shown}': the service takes settings only, as --Section:Key=value";
            }

            var key = equals < 0 ? text : text[..equals];
            if (key.Equals("urls", StringComparison.OrdinalIgnoreCase))
            {
                return "the service listens where Health:Urls says: pass --Health:Urls=... instead of --urls";
            }

            if (argument.StartsWith('-') && prefixed == 0)
            {
                return $"unknown option '{key}'";
            }

            if (!IsKnown(key, catalogue))
            {
                return key.Contains(':', StringComparison.Ordinal)
                    ? $"unknown setting '{key}': appsettings.json names every setting the service reads"
                    : $"unknown option '{argument[..(prefixed + key.Length)]}'";
            }

            if (equals < 0 && ++i == arguments.Count)
            {
                return $"the setting '{key}' has no value: pass --{key}=value";
            }
        }

        return null;
    }

    private static bool IsKnown(string key, IReadOnlySet<string> catalogue) =>
        key.Length > 0
        && (catalogue.Contains(key) || HostKeys.Contains(key) || OpenPrefixes.Any(prefix => key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)));
}
