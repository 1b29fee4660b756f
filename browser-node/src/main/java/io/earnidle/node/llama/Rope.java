package io.earnidle.node.llama;

import io.earnidle.node.llama.ops.DetMath;
import io.earnidle.node.gguf.GgufFormatException;

/**
 * The rotary position embedding of a model: inverse frequencies theta^(-2i/head_dim) (divided by the llama3
 * rope_freqs factors when the file has them) and the per-position cos/sin tables every engine rotates with, all from
 * {@link DetMath} so that the JVM and the browser get the same bits.
 */
public final class Rope {
    private final double[] invFreq; // [headDim/2]

    /** @param freqFactors rope_freqs.weight ({@code headDim/2} positive divisors), or null */
    public Rope(LlamaConfig c, float[] freqFactors) {
        int half = c.headDim() / 2;
        invFreq = new double[half];
        for (int i = 0; i < half; i++) {
            invFreq[i] = DetMath.pow(c.ropeTheta(), -2.0 * i / c.headDim());
            if (freqFactors != null) {
                float ff = freqFactors[i];
                if (!(ff > 0) || Float.isInfinite(ff)) {
                    throw new GgufFormatException("rope_freqs.weight[" + i + "] = " + ff + " is not a positive finite factor");
                }
                invFreq[i] /= ff;
            }
        }
    }

    /** head_dim / 2: the rotated pairs per head. */
    public int pairs() {
        return invFreq.length;
    }

    /** The table of position {@code pos}: head_dim/2 cosines, then the sines, at {@code table[off .. off+head_dim)}. */
    public void table(int pos, float[] table, int off) {
        int half = invFreq.length;
        for (int i = 0; i < half; i++) {
            double theta = pos * invFreq[i];
            table[off + i] = (float) DetMath.cos(theta);
            table[off + half + i] = (float) DetMath.sin(theta);
        }
    }

    /** Rotates the pairs (2i, 2i+1) of the head at {@code v[off .. off+head_dim)} by a {@link #table}. */
    public void rotate(float[] v, int off, float[] table) {
        int half = invFreq.length;
        for (int i = 0; i < half; i++) {
            float cos = table[i];
            float sin = table[half + i];
            float a = v[off + 2 * i];
            float b = v[off + 2 * i + 1];
            v[off + 2 * i] = a * cos - b * sin;
            v[off + 2 * i + 1] = a * sin + b * cos;
        }
    }
}
