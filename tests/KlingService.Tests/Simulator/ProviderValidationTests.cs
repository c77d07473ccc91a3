using KlingService.Simulator;
using KlingService.Tests.Fixtures;

namespace KlingService.Tests.Simulator;

/// <summary>The simulator refuses what the real provider documents as invalid.</summary>
public sealed class ProviderValidationTests
{
    private static readonly CreateTaskBody Valid = new(Images.Base64Png(), "a prompt", "Standard", "5", 0.5, null);

    public static TheoryData<CreateTaskBody> InvalidBodies() =>
    [
        Valid with { Prompt = null },
        Valid with { Prompt = new string('x', 2501) },
        Valid with { NegativePrompt = new string('x', 2501) },
        Valid with { Mode = "Ultra" },
        Valid with { Duration = "6" },
        Valid with { GuidanceScale = 2 },
        Valid with { Image = null },
        Valid with { Image = "%%%" },
        Valid with { Image = Images.Base64Png(100, 100) },
        Valid with { Image = Convert.ToBase64String("BM not a png"u8.ToArray()) },
    ];

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public void Refuses_what_the_provider_documents_as_invalid(CreateTaskBody body) =>
        Assert.NotNull(ProviderValidation.FindProblem(body));

    [Theory]
    [InlineData("https://example.com/a.png")]
    [InlineData("data:image/jpeg;base64,")]
    public void Accepts_urls_and_images_of_the_documented_kinds(string prefix)
    {
        var image = prefix.StartsWith("data:", StringComparison.Ordinal) ? prefix + Convert.ToBase64String(Images.Jpeg(800, 600)) : prefix;
        Assert.Null(ProviderValidation.FindProblem(Valid with { Image = image }));
    }
}
