using System.ComponentModel.DataAnnotations;

namespace KlingService.Jobs;

/// <summary>How long job records are kept. Bound from the <c>Jobs</c> section.</summary>
public sealed class JobsOptions
{
    public const string SectionName = "Jobs";

    /// <summary>
    /// How long a request's record (and its terminal event, for the status query and replay) is kept
    /// after its job ended. After it, the request is unknown and a repeat of its command is a new request.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan RetentionPeriod { get; set; } = TimeSpan.FromDays(7);
}
