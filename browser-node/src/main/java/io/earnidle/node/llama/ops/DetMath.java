package io.earnidle.node.llama.ops;

/**
 * exp/log/sin/cos written with plain double arithmetic so results are bit-identical on the JVM and in
 * WebAssembly (java.lang.Math may use platform intrinsics that differ in the last ulp).
 */
public final class DetMath {
    private static final double LN2 = 0.6931471805599453;
    private static final double TWO_PI = 6.283185307179586;

    private DetMath() {
    }

    public static double exp(double x) {
        if (x != x) {
            return x;
        }
        if (x > 709.0) {
            return Double.POSITIVE_INFINITY;
        }
        if (x < -745.0) {
            return 0.0;
        }
        long k = (long) Math.floor(x / LN2 + 0.5);
        double r = x - k * LN2;
        // Taylor series on |r| <= ln2/2
        double term = 1.0;
        double sum = 1.0;
        for (int i = 1; i <= 18; i++) {
            term = term * r / i;
            sum += term;
        }
        return scale2(sum, (int) k);
    }

    private static double scale2(double v, int k) {
        while (k > 1000) {
            v *= 0x1.0p1000;
            k -= 1000;
        }
        while (k < -1000) {
            v *= 0x1.0p-1000;
            k += 1000;
        }
        return v * Double.longBitsToDouble((long) (k + 1023) << 52);
    }

    public static double log(double x) {
        if (!(x > 0)) {
            return x == 0 ? Double.NEGATIVE_INFINITY : Double.NaN;
        }
        if (x == Double.POSITIVE_INFINITY) {
            return x;
        }
        int e = 0;
        while (x < 1.0) {
            x *= 2.0;
            e--;
        }
        while (x >= 2.0) {
            x *= 0.5;
            e++;
        }
        // ln(x) = 2 atanh((x-1)/(x+1)), x in [1,2)
        double s = (x - 1.0) / (x + 1.0);
        double s2 = s * s;
        double term = s;
        double sum = 0.0;
        for (int i = 1; i <= 61; i += 2) {
            sum += term / i;
            term *= s2;
        }
        return 2.0 * sum + e * LN2;
    }

    public static double pow(double base, double exponent) {
        return exp(exponent * log(base));
    }

    public static double sin(double x) {
        double r = reduce(x);
        double term = r;
        double sum = r;
        double r2 = r * r;
        for (int i = 1; i <= 14; i++) {
            term = -term * r2 / ((2 * i) * (2 * i + 1));
            sum += term;
        }
        return sum;
    }

    public static double cos(double x) {
        double r = reduce(x);
        double term = 1.0;
        double sum = 1.0;
        double r2 = r * r;
        for (int i = 1; i <= 14; i++) {
            term = -term * r2 / ((2 * i - 1) * (2 * i));
            sum += term;
        }
        return sum;
    }

    /** Reduces to [-pi, pi]. */
    private static double reduce(double x) {
        double k = Math.floor(x / TWO_PI + 0.5);
        return x - k * TWO_PI;
    }

    public static float expf(float x) {
        return (float) exp(x);
    }
}
