package io.earnidle.kernels.simd;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * Java reference for the quantized formats, written from ggml's ggml-quants.c / ggml-common.h:
 * {@code block_q4_0 {ggml_half d; uint8_t qs[16];}} (element j = d*((qs[j] & 15) - 8), element j+16 =
 * d*((qs[j] >> 4) - 8)), {@code block_q8_0 {ggml_half d; int8_t qs[32];}}, and quantize_row_q8_0_ref
 * (d = amax/127, id = d ? 1/d : 0, qs = roundf(x*id), d stored as f16). The activation side uses the kernels'
 * Q8 activation buffer layout: i8 qs[nb*32] | f32 d[nb] (the f16-rounded scale) | i32 sum(qs)[nb].
 *
 * <p>K-quants (QK_K = 256): {@code block_q4_K {ggml_half d, dmin; uint8_t scales[12]; uint8_t qs[128];}} with
 * ggml's get_scale_min_k4 6-bit packing, {@code block_q6_K {uint8_t ql[128], qh[64]; int8_t scales[16];
 * ggml_half d;}}, and quantize_row_q8_K_ref (max = first value of largest magnitude, iscale = -127/max,
 * qs = min(127, nearest_int(iscale*x)), d = 1/iscale, bsums of 16). The kernels' Q8_K activation buffer is
 * i8 qs[nb*256] | i16 bsums[nb*16] | f32 d[nb]. The K-quant mat-vec references follow ggml_vec_dot_q4_K_q8_K /
 * ggml_vec_dot_q6_K_q8_K (generic): per super-block an integer sum times (d_w * d_x), summed in double.
 */
final class GgmlReference {
    static final int QK = 32;
    static final int Q4_0_BYTES = 18;
    static final int Q8_0_BYTES = 34;
    static final int QK_K = 256;
    static final int Q4_K_BYTES = 144;
    static final int Q6_K_BYTES = 210;
    static final int Q8_K_BYTES = 292;

    private GgmlReference() {}

    static float f16(short h) {
        return Float.float16ToFloat(h);
    }

    static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** C roundf: round half away from zero. */
    static float roundf(float v) {
        double r = Math.floor(Math.abs((double) v) + 0.5);
        return (float) Math.copySign(r, v);
    }

    /** quantize_row_q8_0_ref into the Q8 activation buffer layout (n a multiple of 32). */
    static byte[] quantizeQ8Activations(float[] x) {
        int nb = x.length / QK;
        byte[] out = new byte[nb * 40];
        ByteBuffer bb = le(out);
        for (int b = 0; b < nb; b++) {
            float amax = 0;
            for (int j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[b * QK + j]));
            float d = amax / 127f;
            float id = d != 0 ? 1.0f / d : 0.0f;
            int sum = 0;
            for (int j = 0; j < QK; j++) {
                int q = (int) roundf(x[b * QK + j] * id);
                out[b * QK + j] = (byte) q;
                sum += q;
            }
            bb.putFloat(nb * QK + 4 * b, f16(Float.floatToFloat16(d)));
            bb.putInt(nb * 36 + 4 * b, sum);
        }
        return out;
    }

    /** ggml_vec_dot_q4_0_q8_0 (generic) per row, each block term sumi * (d_w * d_x), summed in double. */
    static double[] matvecQ4_0(byte[] w, byte[] xq, int rows, int cols, double[] magnitude) {
        return matvec(w, xq, rows, cols, Q4_0_BYTES, magnitude, (p, xo) -> {
            int sumi = 0;
            for (int j = 0; j < 16; j++) {
                int q = w[p + 2 + j] & 0xff;
                sumi += ((q & 15) - 8) * xq[xo + j] + ((q >> 4) - 8) * xq[xo + j + 16];
            }
            return sumi;
        });
    }

    /** ggml_vec_dot_q8_0_q8_0 (generic) per row. */
    static double[] matvecQ8_0(byte[] w, byte[] xq, int rows, int cols, double[] magnitude) {
        return matvec(w, xq, rows, cols, Q8_0_BYTES, magnitude, (p, xo) -> {
            int sumi = 0;
            for (int j = 0; j < QK; j++) sumi += w[p + 2 + j] * xq[xo + j];
            return sumi;
        });
    }

    /** ggml's nearest_int: float add of 1.5*2^23, then the mantissa bits (round half to even, |v| <= 2^22). */
    static int nearestInt(float v) {
        float val = v + 12582912.f;
        return (Float.floatToRawIntBits(val) & 0x007fffff) - 0x00400000;
    }

    /** quantize_row_q8_K_ref into the Q8_K activation buffer layout (n a multiple of 256). */
    static byte[] quantizeQ8KActivations(float[] x) {
        int nb = x.length / QK_K;
        int n = nb * QK_K;
        byte[] out = new byte[nb * Q8_K_BYTES];
        ByteBuffer bb = le(out);
        for (int b = 0; b < nb; b++) {
            float max = 0, amax = 0;
            for (int j = 0; j < QK_K; j++) {
                float ax = Math.abs(x[b * QK_K + j]);
                if (ax > amax) {
                    amax = ax;
                    max = x[b * QK_K + j];
                }
            }
            if (amax == 0) {
                bb.putFloat(n + 32 * nb + 4 * b, 0f); // qs and bsums stay 0
                continue;
            }
            float iscale = -127.f / max;
            for (int j = 0; j < QK_K; j++) {
                out[b * QK_K + j] = (byte) Math.min(127, nearestInt(iscale * x[b * QK_K + j]));
            }
            for (int g = 0; g < QK_K / 16; g++) {
                int sum = 0;
                for (int i = 0; i < 16; i++) sum += out[b * QK_K + 16 * g + i];
                bb.putShort(n + 32 * b + 2 * g, (short) sum);
            }
            bb.putFloat(n + 32 * nb + 4 * b, 1 / iscale);
        }
        return out;
    }

    /** ggml's get_scale_min_k4: {scale, min} of sub-block j from the 12 packed bytes at q[p..p+12). */
    static int[] scaleMinK4(byte[] q, int p, int j) {
        if (j < 4) return new int[] {q[p + j] & 63, q[p + j + 4] & 63};
        int d = (q[p + j + 4] & 0xF) | (((q[p + j - 4] & 0xff) >> 6) << 4);
        int m = ((q[p + j + 4] & 0xff) >> 4) | (((q[p + j] & 0xff) >> 6) << 4);
        return new int[] {d, m};
    }

    /**
     * One K-quant super-block of a row: the weight block at byte p, activation super-block b (qs at 256*b) with scale
     * dx; returns its terms, whose sum is the block's contribution (their absolute values go into the magnitude).
     */
    private interface SuperBlockTerms {
        double[] terms(int p, int b, float dx);
    }

    /** Rows of K-quant super-blocks against a Q8_K activation buffer, summed in double; magnitude = sum of |terms|. */
    private static double[] matvecK(byte[] xq, int rows, int cols, int blockBytes, double[] magnitude,
            SuperBlockTerms block) {
        int nb = cols / QK_K;
        ByteBuffer xb = le(xq);
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            double sum = 0, mag = 0;
            for (int b = 0; b < nb; b++) {
                for (double t : block.terms((r * nb + b) * blockBytes, b, xb.getFloat(cols + 32 * nb + 4 * b))) {
                    sum += t;
                    mag += Math.abs(t);
                }
            }
            y[r] = sum;
            magnitude[r] = mag;
        }
        return y;
    }

    /** ggml_vec_dot_q4_K_q8_K per row: per super-block d_w*d_x*sum_j sc_j*dot_j - dmin*d_x*sum_j m_j*xsum_j. */
    static double[] matvecQ4K(byte[] w, byte[] xq, int rows, int cols, double[] magnitude) {
        ByteBuffer wb = le(w);
        return matvecK(xq, rows, cols, Q4_K_BYTES, magnitude, (p, b, dx) -> {
            long s = 0, m = 0;
            for (int j = 0; j < 8; j++) {
                int[] sm = scaleMinK4(w, p + 4, j);
                int dot = 0, xsum = 0;
                for (int l = 0; l < 32; l++) {
                    int q = w[p + 16 + 32 * (j / 2) + l] & 0xff;
                    int nib = (j % 2 == 0) ? (q & 15) : (q >> 4);
                    int xv = xq[b * QK_K + 32 * j + l];
                    dot += nib * xv;
                    xsum += xv;
                }
                s += (long) sm[0] * dot;
                m += (long) sm[1] * xsum;
            }
            return new double[] {s * (double) (f16(wb.getShort(p)) * dx), -m * (double) (f16(wb.getShort(p + 2)) * dx)};
        });
    }

    /** The 256 signed 6-bit values (q - 32) of the Q6_K block at p, in value order (dequantize_row_q6_K's loop). */
    static int[] q6Values(byte[] w, int p) {
        int[] v = new int[QK_K];
        for (int half = 0; half < 2; half++) {
            int ql = p + 64 * half, qh = p + 128 + 32 * half, o = 128 * half;
            for (int l = 0; l < 32; l++) {
                int lo0 = w[ql + l] & 0xff, lo1 = w[ql + l + 32] & 0xff, h = w[qh + l] & 0xff;
                v[o + l] = ((lo0 & 15) | ((h & 3) << 4)) - 32;
                v[o + l + 32] = ((lo1 & 15) | (((h >> 2) & 3) << 4)) - 32;
                v[o + l + 64] = ((lo0 >> 4) | (((h >> 4) & 3) << 4)) - 32;
                v[o + l + 96] = ((lo1 >> 4) | (((h >> 6) & 3) << 4)) - 32;
            }
        }
        return v;
    }

    /** ggml_vec_dot_q6_K_q8_K per row: per super-block d_w*d_x*sum_g sc_g * sum((q6-32)*q8) over groups of 16. */
    static double[] matvecQ6K(byte[] w, byte[] xq, int rows, int cols, double[] magnitude) {
        ByteBuffer wb = le(w);
        return matvecK(xq, rows, cols, Q6_K_BYTES, magnitude, (p, b, dx) -> {
            int[] v = q6Values(w, p);
            long s = 0;
            for (int g = 0; g < 16; g++) {
                int dot = 0;
                for (int i = 0; i < 16; i++) dot += v[16 * g + i] * xq[b * QK_K + 16 * g + i];
                s += (long) w[p + 192 + g] * dot;
            }
            return new double[] {s * (double) (f16(wb.getShort(p + 208)) * dx)};
        });
    }

    /** Random K-quant blocks: random bytes, with the f16 fields at the given offsets set to scales in [lo, hi). */
    static byte[] randomKBlocks(SplittableRandom rnd, int blocks, int blockBytes, int[] halfOffsets, double lo,
            double hi) {
        byte[] w = new byte[blocks * blockBytes];
        rnd.nextBytes(w);
        ByteBuffer bb = le(w);
        for (int b = 0; b < blocks; b++) {
            for (int off : halfOffsets) {
                bb.putShort(b * blockBytes + off, Float.floatToFloat16((float) (lo + rnd.nextDouble() * (hi - lo))));
            }
        }
        return w;
    }

    /** Integer dot product of the weight block at byte p with the activation block whose qs start at xo. */
    private interface BlockDot {
        int dot(int p, int xo);
    }

    /** Rows of blocks (f16 d first): sum over blocks of sumi * (d_w * d_x) in double; magnitude = sum of |terms|. */
    private static double[] matvec(byte[] w, byte[] xq, int rows, int cols, int blockBytes, double[] magnitude,
            BlockDot blockDot) {
        int nb = cols / QK;
        ByteBuffer wb = le(w);
        ByteBuffer xb = le(xq);
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            double sum = 0, mag = 0;
            for (int b = 0; b < nb; b++) {
                int p = (r * nb + b) * blockBytes;
                double t = blockDot.dot(p, b * QK) * (double) (f16(wb.getShort(p)) * xb.getFloat(nb * QK + 4 * b));
                sum += t;
                mag += Math.abs(t);
            }
            y[r] = sum;
            magnitude[r] = mag;
        }
        return y;
    }

    /** Random blocks: f16 scale in [scaleLo, scaleHi) (random sign when signed), then random payload bytes. */
    static byte[] randomBlocks(SplittableRandom rnd, int blocks, int blockBytes, double scaleLo, double scaleHi,
            boolean signedScale) {
        byte[] w = new byte[blocks * blockBytes];
        ByteBuffer bb = le(w);
        for (int b = 0; b < blocks; b++) {
            double s = scaleLo + rnd.nextDouble() * (scaleHi - scaleLo);
            if (signedScale && rnd.nextBoolean()) s = -s;
            bb.putShort(b * blockBytes, Float.floatToFloat16((float) s));
            for (int j = 2; j < blockBytes; j++) w[b * blockBytes + j] = (byte) rnd.nextInt(256);
        }
        return w;
    }
}
