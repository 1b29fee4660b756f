package io.earnidle.kernels;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * Test-side reference for the ggml weight formats the kernels decode: random valid blocks and a
 * double-precision dequantisation written from the block layouts of ggml-common.h
 * (independent of the kernels and of browser-node).
 */
enum GgmlBlocks {
    F32(0, 1, 4), F16(1, 1, 2), Q4_0(2, 32, 18), Q4_1(3, 32, 20), Q8_0(8, 32, 34), Q4_K(12, 256, 144),
            Q6_K(14, 256, 210);

    final int id;
    final int blockElems;
    final int blockBytes;

    GgmlBlocks(int id, int blockElems, int blockBytes) {
        this.id = id;
        this.blockElems = blockElems;
        this.blockBytes = blockBytes;
    }

    String jsName() {
        return name().toLowerCase();
    }

    int rowBytes(int n) {
        if (n % blockElems != 0) throw new IllegalArgumentException(n + " % " + blockElems);
        return n / blockElems * blockBytes;
    }

    private static short half(double v) {
        return Float.floatToFloat16((float) v);
    }

    private static double unhalf(ByteBuffer b, int at) {
        return Float.float16ToFloat(b.getShort(at));
    }

    /**
     * Random rows x n elements, values of magnitude about {@code amp}. Scales are random f16 (one
     * negative, and for Q4_K a subnormal dmin, to exercise the f16 decoder).
     */
    byte[] random(SplittableRandom rnd, int rows, int n, double amp) {
        int rb = rowBytes(n);
        ByteBuffer b = ByteBuffer.allocate(rows * rb).order(ByteOrder.LITTLE_ENDIAN);
        int blocks = rows * n / blockElems;
        for (int i = 0; i < blocks; i++) {
            int p = i * blockBytes;
            double s = amp * (0.5 + rnd.nextDouble()) * (i == 1 ? -1 : 1);
            switch (this) {
                case F32 -> b.putFloat(p, (float) (amp * (2 * rnd.nextDouble() - 1)));
                case F16 -> b.putShort(p, half(amp * (2 * rnd.nextDouble() - 1)));
                case Q4_0 -> {
                    b.putShort(p, half(s / 8));
                    for (int j = 0; j < 16; j++) b.put(p + 2 + j, (byte) rnd.nextInt(256));
                }
                case Q4_1 -> {
                    b.putShort(p, half(s / 8));
                    b.putShort(p + 2, half(-amp * rnd.nextDouble()));
                    for (int j = 0; j < 16; j++) b.put(p + 4 + j, (byte) rnd.nextInt(256));
                }
                case Q8_0 -> {
                    b.putShort(p, half(s / 127));
                    for (int j = 0; j < 32; j++) b.put(p + 2 + j, (byte) rnd.nextInt(256));
                }
                case Q4_K -> {
                    b.putShort(p, half(s / (15 * 40)));
                    b.putShort(p + 2, i == 2 ? (short) 0x0201 : half(amp / (2 * 40) * rnd.nextDouble()));
                    for (int j = 0; j < 140; j++) b.put(p + 4 + j, (byte) rnd.nextInt(256));
                }
                case Q6_K -> {
                    for (int j = 0; j < 192; j++) b.put(p + j, (byte) rnd.nextInt(256));
                    for (int j = 0; j < 16; j++) b.put(p + 192 + j, (byte) (rnd.nextInt(121) - 60));
                    b.putShort(p + 208, half(s / (32 * 40)));
                }
            }
        }
        return b.array();
    }

    /** Dequantises rows x n elements starting at byte {@code off} of {@code data}. */
    double[][] dequant(byte[] data, int off, int rows, int n) {
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        double[][] out = new double[rows][n];
        int rb = rowBytes(n);
        for (int r = 0; r < rows; r++) {
            for (int blk = 0; blk < n / blockElems; blk++) {
                decodeBlock(b, off + r * rb + blk * blockBytes, out[r], blk * blockElems);
            }
        }
        return out;
    }

    private void decodeBlock(ByteBuffer b, int p, double[] o, int k) {
        switch (this) {
            case F32 -> o[k] = b.getFloat(p);
            case F16 -> o[k] = unhalf(b, p);
            case Q4_0 -> {
                double d = unhalf(b, p);
                for (int j = 0; j < 16; j++) {
                    int q = b.get(p + 2 + j) & 0xFF;
                    o[k + j] = d * ((q & 15) - 8);
                    o[k + j + 16] = d * ((q >> 4) - 8);
                }
            }
            case Q4_1 -> {
                double d = unhalf(b, p);
                double m = unhalf(b, p + 2);
                for (int j = 0; j < 16; j++) {
                    int q = b.get(p + 4 + j) & 0xFF;
                    o[k + j] = d * (q & 15) + m;
                    o[k + j + 16] = d * (q >> 4) + m;
                }
            }
            case Q8_0 -> {
                double d = unhalf(b, p);
                for (int j = 0; j < 32; j++) o[k + j] = d * b.get(p + 2 + j);
            }
            case Q4_K -> {
                double d = unhalf(b, p);
                double dmin = unhalf(b, p + 2);
                for (int sub = 0; sub < 8; sub++) {
                    int sc;
                    int mn;
                    if (sub < 4) {
                        sc = b.get(p + 4 + sub) & 63;
                        mn = b.get(p + 8 + sub) & 63;
                    } else {
                        int hi = b.get(p + 8 + sub) & 0xFF;
                        sc = (hi & 15) | (((b.get(p + sub) & 0xFF) >> 6) << 4);
                        mn = (hi >> 4) | (((b.get(p + 4 + sub) & 0xFF) >> 6) << 4);
                    }
                    for (int l = 0; l < 32; l++) {
                        int q = b.get(p + 16 + 32 * (sub / 2) + l) & 0xFF;
                        int nib = sub % 2 == 0 ? q & 15 : q >> 4;
                        o[k + 32 * sub + l] = d * sc * nib - dmin * mn;
                    }
                }
            }
            case Q6_K -> {
                double d = unhalf(b, p + 208);
                for (int j = 0; j < 256; j++) {
                    int half = j / 128;
                    int quarter = (j % 128) / 32;
                    int l = j % 32;
                    int lo = b.get(p + 64 * half + l + 32 * (quarter % 2)) & 0xFF;
                    int nib = quarter < 2 ? lo & 15 : lo >> 4;
                    int h = ((b.get(p + 128 + 32 * half + l) & 0xFF) >> (2 * quarter)) & 3;
                    int sc = b.get(p + 192 + 8 * half + l / 16 + 2 * quarter);
                    o[k + j] = d * sc * ((nib | (h << 4)) - 32);
                }
            }
        }
    }
}
