namespace KlingService.Generation;

/// <summary>
/// Exponentially weighted sufficient statistics of a quantity modelled as normal on a log scale:
/// its total weight, and the weighted sums of the value and its square.
/// </summary>
public readonly record struct LogMoments(double Weight, double Sum, double SumOfSquares)
{
    /// <summary>
    /// The narrowest spread the model will claim (0.1 %): an exact provider would otherwise drive the
    /// fit to a degenerate zero, and no finish is seen to better than that anyway.
    /// </summary>
    public const double MinSpread = 0.001;

    public double Mean => Weight > 0 ? Sum / Weight : 0;

    public double Spread => Weight > 0 ? Math.Sqrt(Math.Max((SumOfSquares / Weight) - (Mean * Mean), MinSpread * MinSpread)) : 0;

    /// <summary>Older observations count <paramref name="decay"/> times less, then <paramref name="added"/> joins them.</summary>
    public LogMoments Learn(LogMoments added, double decay) =>
        added.Weight > 0 ? new(Weight * decay + added.Weight, Sum * decay + added.Sum, SumOfSquares * decay + added.SumOfSquares) : this;

    /// <summary>One observation known exactly.</summary>
    public static LogMoments Point(double value) => new(1, value, value * value);

    /// <summary>
    /// One observation known only to lie in (<paramref name="low"/>, <paramref name="high"/>], counted by
    /// its expected moments under the current fit (one step of online EM): the interval is read in the
    /// light of what the model already knows, rather than as its midpoint or a bound.
    /// </summary>
    public LogMoments Censored(double low, double high)
    {
        var mean = Mean;
        var spread = Spread;
        var alpha = (low - mean) / spread;
        var beta = (high - mean) / spread;
        var mass = NormalDistribution.Cdf(beta) - NormalDistribution.Cdf(alpha);
        if (mass < 1e-9)
        {
            // The interval lies far in a tail the fit gives no weight: take its nearer finite end.
            return Point(beta <= 0 || double.IsNegativeInfinity(low) ? high : low);
        }

        var densityAlpha = double.IsInfinity(alpha) ? 0 : NormalDistribution.Density(alpha);
        var densityBeta = double.IsInfinity(beta) ? 0 : NormalDistribution.Density(beta);
        var alphaTerm = double.IsInfinity(alpha) ? 0 : alpha * densityAlpha;
        var betaTerm = double.IsInfinity(beta) ? 0 : beta * densityBeta;
        var shift = (densityAlpha - densityBeta) / mass;
        var expected = mean + (spread * shift);
        var variance = spread * spread * Math.Max(0, 1 + ((alphaTerm - betaTerm) / mass) - (shift * shift));
        return new(1, expected, variance + (expected * expected));
    }
}
