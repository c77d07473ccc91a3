using System.Globalization;
using System.Text;

namespace KlingService.Benchmarks;

/// <summary>Every figure of the run beside its baseline, printed and written as a Markdown table.</summary>
public sealed class ResultTable
{
    private readonly List<(string Scenario, string Measure, string Service, string Baseline, string Comparison)> _rows = [];

    public void Add(string scenario, string measure, string service, string baseline, string comparison) =>
        _rows.Add((scenario, measure, service, baseline, comparison));

    public void Print(TextWriter output)
    {
        output.WriteLine();
        output.Write(ToMarkdown());
    }

    public async Task WriteAsync(string path, BenchmarkSettings settings)
    {
        var text = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:u} ({(settings.Quick ? "quick" : "full")}), {Environment.ProcessorCount} cores, {Environment.OSVersion}")
            .AppendLine()
            .Append(ToMarkdown());
        await File.WriteAllTextAsync(path, text.ToString());
    }

    private string ToMarkdown()
    {
        var text = new StringBuilder()
            .AppendLine("| scenario | measure | service | baseline | comparison |")
            .AppendLine("|---|---|---|---|---|");
        foreach (var row in _rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {row.Scenario} | {row.Measure} | {row.Service} | {row.Baseline} | {row.Comparison} |");
        }

        return text.ToString();
    }

    public static string F(double value, int decimals = 1) => value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>The p-th percentile (0–100) by nearest rank; NaN for no values.</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
