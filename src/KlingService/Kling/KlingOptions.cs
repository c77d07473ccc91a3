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

    /// <summary>How long one status call may take, answer body included, before it counts as a failed check.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a create call may take, answer body included. Long, because a create that times out
    /// after it was sent may have created (and charged) a task, and is then never repeated by default.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan CreateTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>How long opening a connection may take; a connect that fails proves nothing was sent, so a create is retried.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:02:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Run against the in-process simulator instead of the provider. Only for local runs: it starts
    /// by itself when nothing at all is configured (no key, no broker, no database).
    /// </summary>
    public bool UseSimulator { get; set; }

    /// <summary>
    /// The account's cap on tasks generating at once, shared by every instance: a job waits in the
    /// backlog until a slot is free, instead of being refused with a 429.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxConcurrentTasks { get; set; } = 5;

    public override string ToString() => $"Kling at {BaseUrl} (key hidden)";
}
