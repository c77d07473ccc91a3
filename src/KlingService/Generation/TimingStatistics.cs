namespace KlingService.Generation;

/// <summary>
/// What the service has learned about one (mode, duration) from its own finished jobs: the total
/// generation time (log seconds), and how the first eta the provider stated relates to the time that
/// was really left (log of real ÷ stated: 0 = exact, &gt; 0 = the task took longer than it said).
/// </summary>
public sealed record TimingStatistics(LogMoments Total, LogMoments EtaError)
{
    /// <summary>Nothing learned yet: the policy behaves as it did before it learned.</summary>
    public static readonly TimingStatistics Cold = new(default, default);

    public TimingStatistics Learn(TimingStatistics added, double decay) =>
        new(Total.Learn(added.Total, decay), EtaError.Learn(added.EtaError, decay));

    /// <summary>The weight of old observations after one more, so that about <paramref name="memoryJobs"/> recent jobs carry the model.</summary>
    public static double Decay(int memoryJobs) => 1 - (1.0 / memoryJobs);
}
