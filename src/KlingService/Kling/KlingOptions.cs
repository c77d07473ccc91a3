using System.ComponentModel.DataAnnotations;

namespace KlingService.Kling;

/// <summary>The provider connection. Bound from the <c>Kling</c> section (environment: <c>Kling__ApiKey</c>).</summary>
public sealed class KlingOptions
{
    public const string SectionName = "Kling";

    /// <summary>The provider's base URL; the embedded simulator's address when no key is configured.</summary>
    [Required]
    public Uri? BaseUrl { get; set; }

    /// <summary>The account's API key. Never logged.</summary>
    [Required(AllowEmptyStrings = false)]
    public string ApiKey { get; set; } = "";

    /// <summary>How long one HTTP call may take before it counts as a transient failure.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The account's cap on tasks generating at once, shared by every instance: a job waits in the
    /// backlog until a slot is free, instead of being refused with a 429.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxConcurrentTasks { get; set; } = 5;

    public override string ToString() => $"Kling at {BaseUrl} (key hidden)";
}
