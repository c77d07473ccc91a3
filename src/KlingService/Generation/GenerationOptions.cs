using System.ComponentModel.DataAnnotations;

namespace KlingService.Generation;

/// <summary>How jobs are created, tracked and given up on. Bound from the <c>Generation</c> section.</summary>
public sealed class GenerationOptions
{
    public const string SectionName = "Generation";

    /// <summary>When to look at a new task for the first time, before the provider has given any eta.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan FirstCheckAfter { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Never poll a task more often than this.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan MinCheckInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Never leave a task unchecked for longer than this.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan MaxCheckInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Growth of the interval between checks while the provider gives no eta, or checks fail.</summary>
    [Range(1.0, 10.0)]
    public double CheckBackoffFactor { get; set; } = 1.5;

    /// <summary>Checks are aimed this long after the provider's eta, which is rounded to whole seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan EtaSlack { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A job not finished this long after its task was created ends as TimedOut.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan JobDeadline { get; set; } = TimeSpan.FromMinutes(60);

    /// <summary>Quick in-process retries of a failed create call before the command is redelivered later.</summary>
    [Range(0, 10)]
    public int CreateRetryLimit { get; set; } = 3;

    /// <summary>Later redeliveries of a command whose create call kept failing transiently; after the last the job fails.</summary>
    [Range(0, 50)]
    public int CreateRedeliveryLimit { get; set; } = 8;

    /// <summary>Wait before the first redelivery; later ones wait exponentially longer.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan CreateRedeliveryMinInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest wait between two redeliveries.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "06:00:00")]
    public TimeSpan CreateRedeliveryMaxInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Commands handled at once by one instance (create calls in flight).</summary>
    [Range(1, 1000)]
    public int CreateConcurrency { get; set; } = 16;
}
