namespace KlingService.Generation;

/// <summary>What the last status check means for the job.</summary>
public enum CheckVerdict
{
    /// <summary>Still queued or processing, or not known yet: look again.</summary>
    Running,

    /// <summary>The task succeeded and listed its video.</summary>
    Succeeded,

    /// <summary>The task ended without a video (failed, cancelled by the provider, or lost by it).</summary>
    Failed,
}
