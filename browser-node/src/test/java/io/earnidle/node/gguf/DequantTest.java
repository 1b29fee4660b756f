package io.earnidle.node.gguf;

import io.earnidle.node.llama.SplitMix64;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Dequantization of every tensor type: hand-built blocks with known values, random blocks against an independent
 * per-element implementation written from the ggml block layouts, and quantize/dequantize round trips.
 */
class DequantTest {

    private static float[] dq(GgmlType t, byte[] raw, int n) {
        float[] out = new float[n + 2];
        out[0] = 12345f;
        out[n + 1] = 12345f;
        Dequant.dequantize(ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN), 0, t, n, out, 1);
        assertEquals(12345f, out[0], "wrote before its range");
        assertEquals(12345f, out[n + 1], "wrote after its range");
        float[] r = new float[n];
        System.arraycopy(out, 1, r, 0, n);
        return r;
    }

    private static void h(byte[] b, int p, float v) {
        short s = Half.fromFloat(v);
        assertEquals(v, Half.toFloat(s), "test value must be exact in f16");
        b[p] = (byte) s;
        b[p + 1] = (byte) (s >> 8);
    }

    @Test
    void bf16AndF16KnownValues() {
        byte[] b = {(byte) 0x80, 0x3F, 0x00, (byte) 0xC0, (byte) 0x49, 0x40, 0, 0};  // 1.0, -2.0, 3.140625, 0
        assertArrayEquals(new float[] {1f, -2f, 3.140625f, 0f}, dq(GgmlType.BF16, b, 4));
        byte[] f = {0x00, 0x3C, 0x00, (byte) 0xC0, 0x00, 0x38, 0x01, 0x00}; // 1, -2, 0.5, smallest subnormal
        assertArrayEquals(new float[] {1f, -2f, 0.5f, 0x1.0p-24f}, dq(GgmlType.F16, f, 4));
    }

    @Test
    void q8_0KnownValues() {
        byte[] b = new byte[34];
        h(b, 0, 0.25f);
        for (int j = 0; j < 32; j++) {
            b[2 + j] = (byte) (j * 8 - 128);
        }
        float[] v = dq(GgmlType.Q8_0, b, 32);
        for (int j = 0; j < 32; j++) {
            assertEquals((j * 8 - 128) * 0.25f, v[j]);
        }
    }

    @Test
    void q4_0KnownValues() {
        byte[] b = new byte[18];
        h(b, 0, 0.5f);
        for (int j = 0; j < 16; j++) {
            b[2 + j] = (byte) (j | ((15 - j) << 4)); // element j = j, element j+16 = 15-j
        }
        float[] v = dq(GgmlType.Q4_0, b, 32);
        for (int j = 0; j < 16; j++) {
            assertEquals((j - 8) * 0.5f, v[j], "low nibble " + j);
            assertEquals((15 - j - 8) * 0.5f, v[j + 16], "high nibble " + j);
        }
    }

    @Test
    void q4_1KnownValues() {
        byte[] b = new byte[20];
        h(b, 0, 2f);
        h(b, 2, -3f);
        for (int j = 0; j < 16; j++) {
            b[4 + j] = (byte) (j | ((15 - j) << 4));
        }
        float[] v = dq(GgmlType.Q4_1, b, 32);
        for (int j = 0; j < 16; j++) {
            assertEquals(j * 2f - 3f, v[j]);
            assertEquals((15 - j) * 2f - 3f, v[j + 16]);
        }
    }

    @Test
    void q4_KKnownValues() {
        byte[] b = new byte[144];
        h(b, 0, 1f);     // d
        h(b, 2, 0.5f);   // dmin
        int[] sc = {1, 2, 3, 63, 37, 5, 60, 0};
        int[] mn = {0, 10, 20, 30, 50, 1, 63, 7};
        for (int j = 0; j < 4; j++) {
            b[4 + j] = (byte) (sc[j] | ((sc[j + 4] >> 4) << 6));
            b[8 + j] = (byte) (mn[j] | ((mn[j + 4] >> 4) << 6));
            b[12 + j] = (byte) ((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
        }
        // element e: sub-block e/32; bytes 16 + 32*(e/64) + e%32, low nibble for even sub-blocks
        for (int e = 0; e < 256; e++) {
            int q = (e * 7) % 16;
            int p = 16 + 32 * (e / 64) + e % 32;
            b[p] = (byte) (((e / 32) % 2 == 0) ? (b[p] & 0xF0) | q : (b[p] & 0x0F) | (q << 4));
        }
        float[] v = dq(GgmlType.Q4_K, b, 256);
        for (int e = 0; e < 256; e++) {
            int s = e / 32;
            assertEquals(sc[s] * ((e * 7) % 16) - 0.5f * mn[s], v[e], 0f, "element " + e);
        }
    }

    @Test
    void q6_KKnownValues() {
        byte[] b = new byte[210];
        h(b, 208, 0.5f);
        for (int s = 0; s < 16; s++) {
            b[192 + s] = (byte) (s % 2 == 0 ? s + 1 : -(s + 1));
        }
        int[] q = new int[256];
        for (int e = 0; e < 256; e++) {
            q[e] = (e * 13) % 64; // stored 6-bit value; element = d * scale[e/16] * (q - 32)
        }
        for (int half = 0; half < 2; half++) {
            for (int l = 0; l < 32; l++) {
                int base = 128 * half;
                int q1 = q[base + l], q2 = q[base + l + 32], q3 = q[base + l + 64], q4 = q[base + l + 96];
                b[64 * half + l] = (byte) ((q1 & 15) | ((q3 & 15) << 4));
                b[64 * half + l + 32] = (byte) ((q2 & 15) | ((q4 & 15) << 4));
                b[128 + 32 * half + l] = (byte) ((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
        }
        float[] v = dq(GgmlType.Q6_K, b, 256);
        for (int e = 0; e < 256; e++) {
            int s = e / 16;
            int scale = s % 2 == 0 ? s + 1 : -(s + 1);
            assertEquals(0.5f * scale * (q[e] - 32), v[e], 0f, "element " + e);
        }
    }

    // ---- independent per-element reference decoders (element index -> value), from the block layouts

    private static float half(byte[] b, int p) {
        return Half.toFloat((short) ((b[p] & 0xFF) | (b[p + 1] << 8)));
    }

    static float refQ4K(byte[] b, int blk, int e) {
        int o = blk * 144;
        float d = half(b, o);
        float dmin = half(b, o + 2);
        int sub = e / 32;
        // 6-bit fields: scales 0-3 and mins 0-3 in the low 6 bits of bytes 0-7; scales/mins 4-7 take their low 4
        // bits from bytes 8-11 (scale low nibble, min high nibble) and their top 2 bits from bytes 0-7's top bits
        int scale;
        int min;
        if (sub < 4) {
            scale = b[o + 4 + sub] & 0x3F;
            min = b[o + 8 + sub] & 0x3F;
        } else {
            int k = sub - 4;
            scale = (b[o + 12 + k] & 0x0F) + 16 * ((b[o + 4 + k] & 0xC0) >> 6);
            min = ((b[o + 12 + k] & 0xF0) >> 4) + 16 * ((b[o + 8 + k] & 0xC0) >> 6);
        }
        int byteAt = b[o + 16 + 32 * (e / 64) + (e % 32)] & 0xFF;
        int q = (sub % 2 == 0) ? byteAt % 16 : byteAt / 16;
        return d * scale * q - dmin * min;
    }

    static float refQ6K(byte[] b, int blk, int e) {
        int o = blk * 210;
        float d = half(b, o + 208);
        int half = e / 128;
        int r = e % 128;
        int grp = r / 32;
        int l = r % 32;
        int lowByte = b[o + 64 * half + l + (grp % 2 == 1 ? 32 : 0)] & 0xFF;
        int low = grp < 2 ? lowByte % 16 : lowByte / 16;
        int high = ((b[o + 128 + 32 * half + l] & 0xFF) >> (2 * grp)) & 3;
        int scale = b[o + 192 + 8 * half + l / 16 + 2 * grp];
        return d * scale * (low + 16 * high - 32);
    }

    private static byte[] randomBlocks(long seed, int blocks, int blockBytes, int[] halfOffsets) {
        SplitMix64 rng = new SplitMix64(seed);
        byte[] b = new byte[blocks * blockBytes];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) rng.nextLong();
        }
        for (int k = 0; k < blocks; k++) {
            for (int ho : halfOffsets) {
                float v = (float) (rng.nextDouble() * 2 - 1) * 0.05f;
                short s = Half.fromFloat(v);
                b[k * blockBytes + ho] = (byte) s;
                b[k * blockBytes + ho + 1] = (byte) (s >> 8);
            }
        }
        return b;
    }

    @Test
    void q4_KRandomBlocksMatchIndependentDecoder() {
        byte[] b = randomBlocks(11, 8, 144, new int[] {0, 2});
        float[] v = dq(GgmlType.Q4_K, b, 8 * 256);
        for (int blk = 0; blk < 8; blk++) {
            for (int e = 0; e < 256; e++) {
                assertEquals(refQ4K(b, blk, e), v[blk * 256 + e], 0f, "block " + blk + " element " + e);
            }
        }
    }

    @Test
    void q6_KRandomBlocksMatchIndependentDecoder() {
        byte[] b = randomBlocks(12, 8, 210, new int[] {208});
        float[] v = dq(GgmlType.Q6_K, b, 8 * 256);
        for (int blk = 0; blk < 8; blk++) {
            for (int e = 0; e < 256; e++) {
                assertEquals(refQ6K(b, blk, e), v[blk * 256 + e], 0f, "block " + blk + " element " + e);
            }
        }
    }

    @Test
    void q4_0AndQ4_1AndQ8_0RandomBlocksMatchIndependentDecoder() {
        byte[] b0 = randomBlocks(13, 4, 18, new int[] {0});
        float[] v0 = dq(GgmlType.Q4_0, b0, 128);
        byte[] b1 = randomBlocks(14, 4, 20, new int[] {0, 2});
        float[] v1 = dq(GgmlType.Q4_1, b1, 128);
        byte[] b8 = randomBlocks(15, 4, 34, new int[] {0});
        float[] v8 = dq(GgmlType.Q8_0, b8, 128);
        for (int e = 0; e < 128; e++) {
            int blk = e / 32;
            int j = e % 32;
            int nib0 = j < 16 ? (b0[blk * 18 + 2 + j] & 0xFF) % 16 : (b0[blk * 18 + 2 + j - 16] & 0xFF) / 16;
            assertEquals((nib0 - 8) * half(b0, blk * 18), v0[e], 0f);
            int nib1 = j < 16 ? (b1[blk * 20 + 4 + j] & 0xFF) % 16 : (b1[blk * 20 + 4 + j - 16] & 0xFF) / 16;
            assertEquals(nib1 * half(b1, blk * 20) + half(b1, blk * 20 + 2), v1[e], 0f);
            assertEquals(half(b8, blk * 34) * b8[blk * 34 + 2 + j], v8[e], 0f);
        }
    }

    @Test
    void quantizeRoundTripsWithinTheFormatsResolution() {
        SplitMix64 rng = new SplitMix64(3);
        int n = 1024;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) ((rng.nextDouble() * 2 - 1) * 0.1);
        }
        // max relative-to-range error each format can guarantee with round-to-nearest (loose upper bounds)
        Object[][] cases = {
            {GgmlType.F32, 0.0}, {GgmlType.F16, 5e-4}, {GgmlType.BF16, 4e-3}, {GgmlType.Q8_0, 0.01},
            {GgmlType.Q4_0, 0.15}, {GgmlType.Q4_1, 0.1}, {GgmlType.Q4_K, 0.12}, {GgmlType.Q6_K, 0.04},
        };
        for (Object[] c : cases) {
            GgmlType t = (GgmlType) c[0];
            byte[] raw = new byte[(int) t.byteSize(n)];
            Quantizer.quantize(t, x, 0, n, raw, 0);
            float[] y = dq(t, raw, n);
            double maxErr = 0;
            for (int i = 0; i < n; i++) {
                maxErr = Math.max(maxErr, Math.abs(y[i] - x[i]));
            }
            System.out.println("round trip " + t + " max error " + maxErr);
            assertTrue(maxErr <= (double) c[1] * 0.1 + 1e-9, t + ": max error " + maxErr);
        }
    }

    @Test
    void ggufRejectsRowsThatDoNotFitTheBlockSize() {
        byte[] raw = new byte[144 * 2];
        byte[] file = new GgufWriter().putString("general.architecture", "llama")
                .addTensor("t", new long[] {128, 4}, GgmlType.Q4_K, raw).toBytes();
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.read(file));
        assertTrue(e.getMessage().contains("block size"), e.getMessage());
    }

    @Test
    void ggufRejectsOverlappingTensors() {
        byte[] file = new GgufWriter().putString("general.architecture", "llama")
                .addF32("a", new long[] {32}, new float[32]).addF32("zz", new long[] {32}, new float[32]).toBytes();
        GgufFile ok = GgufFile.read(file);
        assertEquals(128, ok.tensor("zz").offset() - ok.tensor("a").offset());
        // tensor info of "zz": u64 name length 2, "zz", u32 dims, u64 ne0, u32 type, u64 offset (relative)
        int at = -1;
        for (int i = 0; i + 10 <= file.length; i++) {
            if (file[i] == 2 && file[i + 1] == 0 && file[i + 7] == 0 && file[i + 8] == 'z' && file[i + 9] == 'z') {
                at = i;
                break;
            }
        }
        assertTrue(at > 0);
        int off = at + 10 + 4 + 8 + 4;
        assertEquals(128, file[off] & 0xFF);
        file[off] = 64; // still aligned, but inside "a"
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.read(file));
        assertTrue(e.getMessage().contains("overlap"), e.getMessage());
    }
}
