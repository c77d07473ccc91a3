namespace KlingService.Generation;

/// <summary>The standard normal distribution's density, distribution function and quantiles, for the timing model.</summary>
public static class NormalDistribution
{
    private static readonly double InverseSqrtTwoPi = 1 / Math.Sqrt(2 * Math.PI);

    public static double Density(double z) => InverseSqrtTwoPi * Math.Exp(-0.5 * z * z);

    /// <summary>P(Z ≤ z), accurate to about 1e-7 (the complementary error function by its Chebyshev fit).</summary>
    public static double Cdf(double z)
    {
        if (double.IsNegativeInfinity(z))
        {
            return 0;
        }

        if (double.IsPositiveInfinity(z))
        {
            return 1;
        }

        var x = -z / Math.Sqrt(2);
        var t = 1 / (1 + (0.5 * Math.Abs(x)));
        // Numerical Recipes' erfcc coefficients, highest power last.
        double[] coefficients = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];
        var polynomial = 0.0;
        for (var i = coefficients.Length - 1; i >= 0; i--)
        {
            polynomial = (polynomial * t) + coefficients[i];
        }

        var erfc = t * Math.Exp((-x * x) + polynomial);
        return 0.5 * (x >= 0 ? erfc : 2 - erfc);
    }

    /// <summary>The z with P(Z ≤ z) = p, for 0 &lt; p &lt; 1 (a rational fit in three regions, then one Newton step).</summary>
    public static double Quantile(double p)
    {
        if (p is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "A probability strictly between 0 and 1 is required.");
        }

        double[] a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690, -30.66479806614716, 2.506628277459239];
        double[] b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
        double[] c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
        double[] d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
        const double low = 0.02425;
        double z;
        if (p < low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            z = (((((((((c[0] * q) + c[1]) * q) + c[2]) * q) + c[3]) * q) + c[4]) * q + c[5]) / ((((((((d[0] * q) + d[1]) * q) + d[2]) * q) + d[3]) * q) + 1);
        }
        else if (p <= 1 - low)
        {
            var q = p - 0.5;
            var r = q * q;
            z = (((((((((((a[0] * r) + a[1]) * r) + a[2]) * r) + a[3]) * r) + a[4]) * r) + a[5]) * q) / ((((((((((b[0] * r) + b[1]) * r) + b[2]) * r) + b[3]) * r) + b[4]) * r) + 1);
        }
        else
        {
            var q = Math.Sqrt(-2 * Math.Log(1 - p));
            z = -(((((((((c[0] * q) + c[1]) * q) + c[2]) * q) + c[3]) * q) + c[4]) * q + c[5]) / ((((((((d[0] * q) + d[1]) * q) + d[2]) * q) + d[3]) * q) + 1);
        }

        return z - ((Cdf(z) - p) / Math.Max(Density(z), 1e-300));
    }
}
