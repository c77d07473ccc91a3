using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;
using KlingService.Contracts;

namespace KlingService.Cli;

/// <summary>
/// Parsers whose errors name the option and the form it takes, never a .NET type
/// (System.CommandLine's own say "expected type 'System.Nullable`1[System.Guid]'").
/// </summary>
public static partial class ArgumentParsers
{
    /// <summary>CancellationTokenSource.CancelAfter's limit, so no duration is accepted that would then throw.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(24);

    private const string DurationForm = "a duration such as 90s, 10m, 2h or 00:10:00";

    public static Guid RequestId(ArgumentResult result)
    {
        var text = Single(result);
        if (Guid.TryParse(text, out var id))
        {
            return id;
        }

        result.AddError($"{Name(result)}: expected a request id (a GUID such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301), got '{text}'.");
        return default;
    }

    public static Guid? OptionalRequestId(ArgumentResult result) => RequestId(result);

    /// <summary>A positive duration up to <see cref="MaxDuration"/>: <c>90s</c>, <c>10m</c>, <c>2h</c>, <c>1d</c> or <c>hh:mm:ss</c>.</summary>
    public static TimeSpan Duration(ArgumentResult result)
    {
        var text = Single(result);
        var duration = ParseDuration(text);
        if (duration is { } value && value > TimeSpan.Zero && value <= MaxDuration)
        {
            return value;
        }

        result.AddError($"{Name(result)}: expected {DurationForm}, more than 0 and at most {MaxDuration.TotalDays:0} days; got '{text}'.");
        return default;
    }

    public static TimeSpan? OptionalDuration(ArgumentResult result) => Duration(result);

    public static VideoMode Mode(ArgumentResult result)
    {
        var text = Single(result);
        if (Enum.TryParse<VideoMode>(text, ignoreCase: true, out var mode) && Enum.IsDefined(mode) && !int.TryParse(text, out _))
        {
            return mode;
        }

        result.AddError($"{Name(result)}: expected {string.Join(" or ", Enum.GetNames<VideoMode>())}, got '{text}'.");
        return default;
    }

    public static int WholeNumber(ArgumentResult result)
    {
        var text = Single(result);
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        result.AddError($"{Name(result)}: expected a whole number, got '{text}'.");
        return default;
    }

    public static TimeSpan? ParseDuration(string text)
    {
        if (UnitDuration().Match(text) is { Success: true } match)
        {
            var amount = double.Parse(match.Groups["amount"].Value, CultureInfo.InvariantCulture);
            var seconds = match.Groups["unit"].Value switch { "ms" => amount / 1000, "s" => amount, "m" => amount * 60, "h" => amount * 3600, _ => amount * 86400 };
            return seconds <= TimeSpan.MaxValue.TotalSeconds ? TimeSpan.FromSeconds(seconds) : null;
        }

        // A bare number would read as days ("5" is five days): a unit, or hh:mm:ss, is required.
        return text.All(char.IsAsciiDigit) || !TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) ? null : span;
    }

    private static string Single(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";

    private static string Name(ArgumentResult result) => result.Parent is OptionResult option ? option.Option.Name : $"<{result.Argument.Name}>";

    [GeneratedRegex(@"^(?<amount>\d+(\.\d+)?)(?<unit>ms|s|m|h|d)$")]
    private static partial Regex UnitDuration();
}
