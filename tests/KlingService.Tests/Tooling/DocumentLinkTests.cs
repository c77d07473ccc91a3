using System.Text.RegularExpressions;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Tooling;

/// <summary>
/// The README sends readers to the design notes, the settings and the benchmarks, and they link back:
/// every relative link among them names a file of the repository and, with a <c>#</c>, one of its headings.
/// </summary>
public sealed partial class DocumentLinkTests
{
    public static TheoryData<string> Documents() => new()
    {
        "README.md",
        "src/KlingService/DESIGN.md",
        "src/KlingService/CONFIGURATION.md",
        "tests/KlingService.Benchmarks/README.md",
    };

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_relative_link_names_an_existing_file_and_heading(string document)
    {
        var path = RepositoryFiles.PathOf(document.Split('/'));
        var broken = new List<string>();
        foreach (Match link in MarkdownLink().Matches(File.ReadAllText(path)))
        {
            var target = link.Groups["target"].Value;
            if (target.Contains("://", StringComparison.Ordinal))
            {
                continue;
            }

            var hash = target.IndexOf('#');
            var file = hash < 0 ? target : target[..hash];
            var anchor = hash < 0 ? null : target[(hash + 1)..];
            var targetPath = file.Length == 0 ? path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, file));
            if (!File.Exists(targetPath) && !Directory.Exists(targetPath))
            {
                broken.Add($"{target}: no such file");
            }
            else if (anchor is not null && !Anchors(targetPath).Contains(anchor))
            {
                broken.Add($"{target}: no heading #{anchor}");
            }
        }

        Assert.True(broken.Count == 0, $"{document}: {string.Join("; ", broken)}");
    }

    /// <summary>The anchors GitHub gives a Markdown file's headings (outside code blocks): lower case, punctuation dropped, spaces as hyphens.</summary>
    private static HashSet<string> Anchors(string path)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var inCode = false;
        foreach (var line in File.ReadAllLines(path))
        {
            inCode ^= line.StartsWith("```", StringComparison.Ordinal);
            if (!inCode && line.StartsWith('#'))
            {
                anchors.Add(NotInAnchor().Replace(line.TrimStart('#').Trim().ToLowerInvariant(), "").Replace(' ', '-'));
            }
        }

        return anchors;
    }

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"[^\p{L}\p{N} _-]")]
    private static partial Regex NotInAnchor();
}
