using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace KlingService.Hosting;

/// <summary>
/// Turns what stops the service from starting into one line that says what to change, naming the
/// setting as an operator writes it (<c>Kling:MaxConcurrentTasks</c>, not a member of <c>KlingOptions</c>),
/// never a stack trace or a .NET type name. Anything it does not recognise is left to surface as it is.
/// </summary>
public static partial class StartupFailure
{
    public static string? Describe(Exception exception) => exception switch
    {
        StartupException e => e.Message,
        OptionsValidationException e => string.Join(" ", e.Failures.Select(failure => Rephrase(failure, SectionOf(e.OptionsType)))),
        InvalidOperationException e when ConversionFailure().Match(e.Message) is { Success: true } match =>
            $"{match.Groups["key"].Value} must be {Form(match.Groups["type"].Value)}.",
        IOException { InnerException: AddressInUseException } => HealthAddressInUse("the health address"),
        _ => null,
    };

    public static string HealthAddressInUse(string address) =>
        $"{address} is in use by another process: set Health:Urls to a free one (e.g. --Health:Urls=http://127.0.0.1:8082).";

    private static string Rephrase(string failure, string? section)
    {
        if (section is null || DataAnnotationFailure().Match(failure) is not { Success: true } match)
        {
            return failure;
        }

        var member = match.Groups["member"].Value;
        var error = match.Groups["error"].Value.Replace($"The field {member} ", "", StringComparison.Ordinal);
        return $"{section}:{member} {error.TrimEnd('.')}.";
    }

    private static string? SectionOf(Type options) =>
        options.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field ? (string?)field.GetRawConstantValue() : null;

    private static string Form(string typeName)
    {
        var name = NullableOf().Match(typeName) is { Success: true } inner ? inner.Groups["type"].Value : typeName;
        return name switch
        {
            "System.Int32" or "System.Int64" => "a whole number",
            "System.Double" or "System.Decimal" => "a number",
            "System.Boolean" => "true or false",
            "System.TimeSpan" => "a duration such as 00:00:30",
            "System.Uri" => "a URL",
            _ when typeof(StartupFailure).Assembly.GetType(name) is { IsEnum: true } type => $"one of {string.Join(", ", Enum.GetNames(type))}",
            _ => "a valid value",
        };
    }

    [GeneratedRegex(@"^Failed to convert configuration value (?:'.*' )?at '(?<key>[^']+)' to type '(?<type>[^']+)'", RegexOptions.Singleline)]
    private static partial Regex ConversionFailure();

    [GeneratedRegex(@"members: '(?<member>[^']+)' with the error: '(?<error>.*)'\.?$", RegexOptions.Singleline)]
    private static partial Regex DataAnnotationFailure();

    [GeneratedRegex(@"^System\.Nullable`1\[\[?(?<type>[^,\]]+)")]
    private static partial Regex NullableOf();
}
