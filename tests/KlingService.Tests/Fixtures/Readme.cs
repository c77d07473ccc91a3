using System.Text.RegularExpressions;

namespace KlingService.Tests.Fixtures;

/// <summary>
/// The README's marked code blocks (<c>&lt;!-- name --&gt;</c> ... <c>&lt;!-- /name --&gt;</c>), so tests run
/// exactly what the README tells people to type, and fail when the two part ways.
/// </summary>
public static class Readme
{
    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "README.md")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException($"No README.md above {AppContext.BaseDirectory}.");
    }

    /// <summary>The fenced code between the named markers, without its fence; null when the README has no such block.</summary>
    public static string? Block(string name)
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var match = Regex.Match(readme, $@"<!-- {Regex.Escape(name)} -->\s*```[a-z]*\n(?<code>.*?)```\s*<!-- /{Regex.Escape(name)} -->", RegexOptions.Singleline);
        return match.Success ? match.Groups["code"].Value : null;
    }

    /// <summary>
    /// A shell block's commands as their words: lines joined at a trailing backslash, comments and
    /// blank lines dropped, words split at spaces outside single or double quotes (all these blocks use).
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<string>> Commands(string block)
    {
        var commands = new List<IReadOnlyList<string>>();
        foreach (var line in Regex.Replace(block, @"\\\n\s*", " ").Split('\n'))
        {
            var text = line.Trim();
            if (text.Length == 0 || text.StartsWith('#'))
            {
                continue;
            }

            commands.Add([.. Regex.Matches(text, @"'(?<word>[^']*)'|""(?<word>[^""]*)""|(?<word>[^\s'""]+)").Select(m => m.Groups["word"].Value)]);
        }

        return commands;
    }
}
