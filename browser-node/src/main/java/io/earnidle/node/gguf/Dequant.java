package io.earnidle.node.gguf;

import java.nio.ByteBuffer;

/**
 * Dequantization of ggml tensor data read in place from a little-endian buffer (block layouts as in ggml's
 * {@code ggml-common.h} / {@code dequantize_row_*}). Pure Java, no allocation: used by the JVM tensor ops, by
 * {@link GgufFile#readFloats} and by tests.
 */
public final class Dequant {
    private Dequant() {
    }

    /**
     * Writes {@code n} values of type {@code type} starting at byte {@code offset} of {@code buf} to
     * {@code out[outOff ..]}; {@code n} must be a multiple of the type's block size.
     */
    public static void dequantize(ByteBuffer buf, int offset, GgmlType type, int n, float[] out, int outOff) {
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    out[outOff + i] = buf.getFloat(offset + 4 * i);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[outOff + i] = Half.toFloat(buf.getShort(offset + 2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[outOff + i] = Float.intBitsToFloat((buf.getShort(offset + 2 * i) & 0xFFFF) << 16);
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    int bp = offset + b * 34;
                    int o = outOff + b * 32;
                    float d = Half.toFloat(buf.getShort(bp));
                    for (int j = 0; j < 32; j++) {
                        out[o + j] = d * buf.get(bp + 2 + j);
                    }
                }
            }
            case Q4_0 -> {
                // block: f16 d, 16 bytes; byte j holds element j (low nibble) and element j+16 (high nibble)
                for (int b = 0; b < n / 32; b++) {
                    int bp = offset + b * 18;
                    int o = outOff + b * 32;
                    float d = Half.toFloat(buf.getShort(bp));
                    for (int j = 0; j < 16; j++) {
                        int q = buf.get(bp + 2 + j) & 0xFF;
                        out[o + j] = ((q & 0xF) - 8) * d;
                        out[o + j + 16] = ((q >>> 4) - 8) * d;
                    }
                }
            }
            case Q4_1 -> {
                // block: f16 d, f16 m, 16 bytes of nibbles; value = q*d + m
                for (int b = 0; b < n / 32; b++) {
                    int bp = offset + b * 20;
                    int o = outOff + b * 32;
                    float d = Half.toFloat(buf.getShort(bp));
                    float m = Half.toFloat(buf.getShort(bp + 2));
                    for (int j = 0; j < 16; j++) {
                        int q = buf.get(bp + 4 + j) & 0xFF;
                        out[o + j] = (q & 0xF) * d + m;
                        out[o + j + 16] = (q >>> 4) * d + m;
                    }
                }
            }
            case Q4_K -> {
                for (int b = 0; b < n / 256; b++) {
                    q4kBlock(buf, offset + b * 144, out, outOff + b * 256);
                }
            }
            case Q6_K -> {
                for (int b = 0; b < n / 256; b++) {
                    q6kBlock(buf, offset + b * 210, out, outOff + b * 256);
                }
            }
        }
    }

    /**
     * Q4_K super-block (256 values, 144 bytes): f16 d, f16 dmin, 12 bytes of packed 6-bit (scale, min) pairs for
     * 8 sub-blocks of 32, then 128 bytes of nibbles. Sub-blocks 2k and 2k+1 share bytes qs[32k .. 32k+31]: low
     * nibbles are sub-block 2k, high nibbles sub-block 2k+1. value = d*scale*q - dmin*min.
     */
    private static void q4kBlock(ByteBuffer buf, int bp, float[] out, int o) {
        float d = Half.toFloat(buf.getShort(bp));
        float dmin = Half.toFloat(buf.getShort(bp + 2));
        int sc = bp + 4;
        int qs = bp + 16;
        for (int k = 0; k < 4; k++) {
            int s0 = scaleK4(buf, sc, 2 * k);
            int s1 = scaleK4(buf, sc, 2 * k + 1);
            float d1 = d * (s0 & 0xFF);
            float m1 = dmin * (s0 >>> 8);
            float d2 = d * (s1 & 0xFF);
            float m2 = dmin * (s1 >>> 8);
            int qb = qs + 32 * k;
            int ob = o + 64 * k;
            for (int l = 0; l < 32; l++) {
                int q = buf.get(qb + l) & 0xFF;
                out[ob + l] = d1 * (q & 0xF) - m1;
                out[ob + 32 + l] = d2 * (q >>> 4) - m2;
            }
        }
    }

    /** The 6-bit scale (low byte) and 6-bit min (second byte) of sub-block j of a K-quant's 12 scale bytes. */
    static int scaleK4(ByteBuffer buf, int sc, int j) {
        int s;
        int m;
        if (j < 4) {
            s = buf.get(sc + j) & 63;
            m = buf.get(sc + j + 4) & 63;
        } else {
            int hi = buf.get(sc + j + 4) & 0xFF;
            s = (hi & 0xF) | (((buf.get(sc + j - 4) & 0xFF) >>> 6) << 4);
            m = (hi >>> 4) | (((buf.get(sc + j) & 0xFF) >>> 6) << 4);
        }
        return s | (m << 8);
    }

    /**
     * Q6_K super-block (256 values, 210 bytes): ql[128] low nibbles, qh[64] high 2-bit pairs, 16 int8 scales (one per
     * 16 values), f16 d. value = d * scale * (q - 32) with q a 6-bit number.
     */
    private static void q6kBlock(ByteBuffer buf, int bp, float[] out, int o) {
        float d = Half.toFloat(buf.getShort(bp + 208));
        for (int half = 0; half < 2; half++) {
            int ql = bp + 64 * half;
            int qh = bp + 128 + 32 * half;
            int sc = bp + 192 + 8 * half;
            int ob = o + 128 * half;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int lo0 = buf.get(ql + l) & 0xFF;
                int lo1 = buf.get(ql + l + 32) & 0xFF;
                int h = buf.get(qh + l) & 0xFF;
                int q1 = ((lo0 & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((lo1 & 0xF) | (((h >>> 2) & 3) << 4)) - 32;
                int q3 = ((lo0 >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                int q4 = ((lo1 >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                out[ob + l] = d * buf.get(sc + is) * q1;
                out[ob + l + 32] = d * buf.get(sc + is + 2) * q2;
                out[ob + l + 64] = d * buf.get(sc + is + 4) * q3;
                out[ob + l + 96] = d * buf.get(sc + is + 6) * q4;
            }
        }
    }
}
