using System.Text.RegularExpressions;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Tooling;

/// <summary>The README's commands are ones a reader with a fresh clone and the .NET SDK can type.</summary>
public sealed partial class ReadmeCommandTests
{
    private static readonly string Readme = RepositoryFiles.ReadAllText("README.md");

    [Fact]
    public void No_example_runs_a_KlingService_executable_the_reader_does_not_have()
    {
        // Nothing installs a KlingService command; a line that starts with it fails with "command not found".
        var bare = Readme.Split('\n').Select((line, index) => (line, number: index + 1))
            .Where(l => BareCommandLine().IsMatch(l.line) || BareInlineCommand().IsMatch(l.line))
            .Select(l => $"README.md:{l.number}: {l.line.Trim()}")
            .ToList();

        Assert.True(bare.Count == 0, string.Join(Environment.NewLine, bare));
    }

    [Fact]
    public void The_tests_section_says_how_to_run_a_subset_and_list_the_options()
    {
        var tests = Readme[Readme.IndexOf("\n## Tests\n", StringComparison.Ordinal)..];
        tests = tests[..tests.IndexOf("\n## ", 1, StringComparison.Ordinal)];

        Assert.Contains("tests/run.sh --filter ", tests, StringComparison.Ordinal);
        Assert.Contains("tests/run.sh --help", tests, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^\s*KlingService\s")]
    private static partial Regex BareCommandLine();

    [GeneratedRegex(@"`KlingService\s+(-|[a-z<])")]
    private static partial Regex BareInlineCommand();
}
