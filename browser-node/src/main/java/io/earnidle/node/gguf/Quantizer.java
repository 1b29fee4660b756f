package io.earnidle.node.gguf;

/**
 * Round-to-nearest quantizers for every {@link GgmlType}, producing ggml's block layouts (the inverse of
 * {@link Dequant}). Simple per-block scale/min choices (no importance search as llama-quantize does): good enough
 * for synthetic models, and every output is a valid block.
 */
public final class Quantizer {
    private Quantizer() {
    }

    /** Quantizes {@code n} values (a multiple of the block size) into {@code type.byteSize(n)} bytes at dst[dstOff]. */
    public static void quantize(GgmlType type, float[] src, int srcOff, int n, byte[] dst, int dstOff) {
        if (n % type.blockSize() != 0) {
            throw new IllegalArgumentException(n + " values are not a multiple of the " + type + " block size");
        }
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    putI32(dst, dstOff + 4 * i, Float.floatToRawIntBits(src[srcOff + i]));
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    putI16(dst, dstOff + 2 * i, Half.fromFloat(src[srcOff + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    putI16(dst, dstOff + 2 * i, bf16(src[srcOff + i]));
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    q8_0(src, srcOff + 32 * b, dst, dstOff + 34 * b);
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    q4_0(src, srcOff + 32 * b, dst, dstOff + 18 * b);
                }
            }
            case Q4_1 -> {
                for (int b = 0; b < n / 32; b++) {
                    q4_1(src, srcOff + 32 * b, dst, dstOff + 20 * b);
                }
            }
            case Q4_K -> {
                for (int b = 0; b < n / 256; b++) {
                    q4_K(src, srcOff + 256 * b, dst, dstOff + 144 * b);
                }
            }
            case Q6_K -> {
                for (int b = 0; b < n / 256; b++) {
                    q6_K(src, srcOff + 256 * b, dst, dstOff + 210 * b);
                }
            }
        }
    }

    /** Round-to-nearest-even float to bfloat16 bits (NaN stays NaN). */
    public static short bf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((x >>> 16) | 0x40);
        }
        return (short) ((x + 0x7FFF + ((x >>> 16) & 1)) >>> 16);
    }

    private static void q8_0(float[] x, int o, byte[] y, int p) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[o + j]));
        }
        short dh = Half.fromFloat(amax / 127f);
        float d = Half.toFloat(dh);
        float id = d != 0 ? 1f / d : 0f;
        putI16(y, p, dh);
        for (int j = 0; j < 32; j++) {
            y[p + 2 + j] = (byte) clamp(Math.round(x[o + j] * id), -127, 127);
        }
    }

    private static void q4_0(float[] x, int o, byte[] y, int p) {
        float max = 0;
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[o + j];
            if (Math.abs(v) > amax) {
                amax = Math.abs(v);
                max = v;
            }
        }
        short dh = Half.fromFloat(max / -8f);
        float d = Half.toFloat(dh);
        float id = d != 0 ? 1f / d : 0f;
        putI16(y, p, dh);
        for (int j = 0; j < 16; j++) {
            int a = clamp(Math.round(x[o + j] * id) + 8, 0, 15);
            int b = clamp(Math.round(x[o + j + 16] * id) + 8, 0, 15);
            y[p + 2 + j] = (byte) (a | (b << 4));
        }
    }

    private static void q4_1(float[] x, int o, byte[] y, int p) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < 32; j++) {
            min = Math.min(min, x[o + j]);
            max = Math.max(max, x[o + j]);
        }
        short dh = Half.fromFloat((max - min) / 15f);
        short mh = Half.fromFloat(min);
        float d = Half.toFloat(dh);
        float m = Half.toFloat(mh);
        float id = d != 0 ? 1f / d : 0f;
        putI16(y, p, dh);
        putI16(y, p + 2, mh);
        for (int j = 0; j < 16; j++) {
            int a = clamp(Math.round((x[o + j] - m) * id), 0, 15);
            int b = clamp(Math.round((x[o + j + 16] - m) * id), 0, 15);
            y[p + 4 + j] = (byte) (a | (b << 4));
        }
    }

    private static void q4_K(float[] x, int o, byte[] y, int p) {
        float[] scales = new float[8];
        float[] mins = new float[8];
        float maxScale = 0;
        float maxMin = 0;
        for (int s = 0; s < 8; s++) {
            float lo = 0; // the min is kept <= 0 so its stored (subtracted) magnitude is non-negative
            float hi = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < 32; j++) {
                lo = Math.min(lo, x[o + 32 * s + j]);
                hi = Math.max(hi, x[o + 32 * s + j]);
            }
            scales[s] = (hi - lo) / 15f;
            mins[s] = -lo;
            maxScale = Math.max(maxScale, scales[s]);
            maxMin = Math.max(maxMin, mins[s]);
        }
        short dh = Half.fromFloat(maxScale / 63f);
        short mh = Half.fromFloat(maxMin / 63f);
        float d = Half.toFloat(dh);
        float dmin = Half.toFloat(mh);
        int[] ls = new int[8];
        int[] lm = new int[8];
        for (int s = 0; s < 8; s++) {
            ls[s] = d > 0 ? clamp(Math.round(scales[s] / d), 0, 63) : 0;
            lm[s] = dmin > 0 ? clamp(Math.round(mins[s] / dmin), 0, 63) : 0;
        }
        putI16(y, p, dh);
        putI16(y, p + 2, mh);
        for (int j = 0; j < 4; j++) {
            y[p + 4 + j] = (byte) ((ls[j] & 63) | ((ls[j + 4] >>> 4) << 6));
            y[p + 8 + j] = (byte) ((lm[j] & 63) | ((lm[j + 4] >>> 4) << 6));
            y[p + 12 + j] = (byte) ((ls[j + 4] & 0xF) | ((lm[j + 4] & 0xF) << 4));
        }
        int[] q = new int[256];
        for (int s = 0; s < 8; s++) {
            float sd = d * ls[s];
            float sm = dmin * lm[s];
            for (int j = 0; j < 32; j++) {
                q[32 * s + j] = sd > 0 ? clamp(Math.round((x[o + 32 * s + j] + sm) / sd), 0, 15) : 0;
            }
        }
        for (int k = 0; k < 4; k++) {
            for (int l = 0; l < 32; l++) {
                y[p + 16 + 32 * k + l] = (byte) (q[64 * k + l] | (q[64 * k + 32 + l] << 4));
            }
        }
    }

    private static void q6_K(float[] x, int o, byte[] y, int p) {
        float[] scales = new float[16];
        float maxScale = 0;
        for (int s = 0; s < 16; s++) {
            float amax = 0;
            for (int j = 0; j < 16; j++) {
                amax = Math.max(amax, Math.abs(x[o + 16 * s + j]));
            }
            scales[s] = amax / 31f;
            maxScale = Math.max(maxScale, scales[s]);
        }
        short dh = Half.fromFloat(maxScale / 127f);
        float d = Half.toFloat(dh);
        int[] ls = new int[16];
        for (int s = 0; s < 16; s++) {
            ls[s] = d > 0 ? clamp(Math.round(scales[s] / d), 0, 127) : 0;
            y[p + 192 + s] = (byte) ls[s];
        }
        int[] q = new int[256];
        for (int s = 0; s < 16; s++) {
            float sd = d * ls[s];
            for (int j = 0; j < 16; j++) {
                q[16 * s + j] = (sd > 0 ? clamp(Math.round(x[o + 16 * s + j] / sd), -32, 31) : 0) + 32;
            }
        }
        for (int h = 0; h < 2; h++) {
            int ql = p + 64 * h;
            int qh = p + 128 + 32 * h;
            int b = 128 * h;
            for (int l = 0; l < 32; l++) {
                int q1 = q[b + l];
                int q2 = q[b + l + 32];
                int q3 = q[b + l + 64];
                int q4 = q[b + l + 96];
                y[ql + l] = (byte) ((q1 & 0xF) | ((q3 & 0xF) << 4));
                y[ql + l + 32] = (byte) ((q2 & 0xF) | ((q4 & 0xF) << 4));
                y[qh + l] = (byte) ((q1 >>> 4) | ((q2 >>> 4) << 2) | ((q3 >>> 4) << 4) | ((q4 >>> 4) << 6));
            }
        }
        putI16(y, p + 208, dh);
    }

    private static int clamp(int v, int lo, int hi) {
        return v < lo ? lo : Math.min(v, hi);
    }

    private static void putI16(byte[] b, int p, int v) {
        b[p] = (byte) v;
        b[p + 1] = (byte) (v >>> 8);
    }

    private static void putI32(byte[] b, int p, int v) {
        b[p] = (byte) v;
        b[p + 1] = (byte) (v >>> 8);
        b[p + 2] = (byte) (v >>> 16);
        b[p + 3] = (byte) (v >>> 24);
    }
}
