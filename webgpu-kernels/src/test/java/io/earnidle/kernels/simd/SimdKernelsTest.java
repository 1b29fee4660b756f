package io.earnidle.kernels.simd;

import static io.earnidle.kernels.simd.GgmlReference.Q4_0_BYTES;
import static io.earnidle.kernels.simd.GgmlReference.Q8_0_BYTES;
import static io.earnidle.kernels.simd.GgmlReference.QK;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs the WASM SIMD kernels (web/kernels/simd/, built from src/main/wat at build time) in headless Chromium on
 * seeded random inputs against a Java reference of ggml's formats, with outputs poisoned before each run. The
 * page is cross-origin isolated, so every quantized mat-vec runs four ways — plain SIMD and relaxed SIMD, on 1
 * thread and on 2 threads (a Worker sharing the memory) — and all four must be bit-identical.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SimdKernelsTest {
    /** {variant, threads}; the first is the baseline the others must equal bit for bit. */
    private static final List<Object[]> COMBOS = List.of(
            new Object[] {"plain", 1}, new Object[] {"relaxed", 1}, new Object[] {"plain", 2},
            new Object[] {"relaxed", 2});

    private SimdHarness harness;
    private Map<String, Object> init;

    @BeforeAll
    void startBrowser() throws Exception {
        harness = SimdHarness.start();
        init = harness.open("/simd-harness/simd.html", "simdHarnessReady");
    }

    @AfterAll
    void stopBrowser() {
        if (harness != null) harness.close();
    }

    private void requirePage() {
        assertNotNull(init, "harness page returned no init report");
        if (!Boolean.TRUE.equals(init.get("ok"))) fail("SIMD harness page failed: " + init);
    }

    @Test
    void pageIsCrossOriginIsolatedAndHasRelaxedSimd() {
        requirePage();
        assertEquals(Boolean.TRUE, init.get("crossOriginIsolated"), "COOP/COEP did not isolate the page: " + init);
        assertEquals(Boolean.TRUE, init.get("threadsAvailable"), "no SharedArrayBuffer: " + init);
        // Chromium has shipped relaxed SIMD since 114; both builds must be exercised, so its absence is a failure.
        assertEquals(Boolean.TRUE, init.get("relaxedSimd"), "relaxed SIMD build did not validate: " + init);
    }

    // ------------------------------------------------------------------ Q8_0 activation quantization

    @ParameterizedTest(name = "quantize_q8_0 {0}")
    @ValueSource(strings = {"plain", "relaxed"})
    void quantizeMatchesGgmlReferenceExactly(String variant) {
        requirePage();
        SplittableRandom rnd = new SplittableRandom(0x0A8L);
        int nb = 41;
        float[] x = new float[nb * QK];
        for (int b = 0; b < nb; b++) {
            double mag = switch (b % 5) {
                case 0 -> 1e-3;
                case 1 -> 1.0;
                case 2 -> 250.0;
                case 3 -> 1e-6; // f16 scale underflows to a subnormal
                default -> 0.05;
            };
            for (int j = 0; j < QK; j++) x[b * QK + j] = (float) ((rnd.nextDouble() * 2 - 1) * mag);
        }
        for (int j = 0; j < QK; j++) x[2 * QK + j] = 0f; // an all-zero block: d = 0, id = 0
        // amax 127 => d = 1, id = 1: x.5 values are exact ties; roundf rounds them away from zero
        float[] ties = {127f, -127f, 2.5f, -2.5f, 0.5f, -0.5f, 1.5f, -1.5f, 126.5f, -126.5f, 3.49f, -3.51f};
        for (int j = 0; j < QK; j++) x[4 * QK + j] = ties[j % ties.length];
        assertQuantizesExactly(variant, "quantizeQ8_0", x, GgmlReference.quantizeQ8Activations(x));
    }

    /** Runs quantizer {@code fn} on x into outputs poisoned three ways; every run must give exactly {@code expected}. */
    private void assertQuantizesExactly(String variant, String fn, float[] x, byte[] expected) {
        for (int poison : new int[] {0xff, 0x00, 0x7f}) {
            Map<String, Object> res = run(variant, 1,
                    List.of(input("x", floatBytes(x)), output("xq", expected.length, poison)),
                    List.of(call(fn, "$x", "$xq", x.length)), "xq");
            assertArrayEquals(expected, out(res, "xq"), fn + " bytes (poison " + poison + ")");
        }
    }

    /**
     * The kernels' f16 conversions (scalar $h2f and the vector H2F_LANES every scale goes through) equal Java's
     * Float.float16ToFloat bit for bit on every finite f16, the zeros and the subnormals included (those are
     * converted without subnormal f32 arithmetic, which costs a microcode assist per op on x86).
     */
    // the scalar results come back through JSON, which has no -0 (the array conversion covers 0x8000)
    private static final int[] SCALAR_F16 = {0x0000, 0x0001, 0x83ff, 0x0400, 0x3c00, 0xfbff, 0x1234, 0x8001};

    @Test
    void f16ConversionsAreExactOnEveryFiniteValue() {
        requirePage();
        int n = 0;
        byte[] halves = new byte[2 * 65536];
        for (int h = 0; h < 65536; h++) {
            if ((h & 0x7c00) != 0x7c00) {
                halves[2 * n] = (byte) h;
                halves[2 * n + 1] = (byte) (h >> 8);
                n++;
            }
        }
        int count = n;
        byte[] in = java.util.Arrays.copyOf(halves, 2 * count);
        for (String variant : new String[] {"plain", "relaxed"}) {
            List<Map<String, Object>> calls = new ArrayList<>(List.of(call("raw:f16_to_f32_array", "$h", "$f", count)));
            for (int h : SCALAR_F16) {
                calls.add(call("raw:f16_to_f32", h));
            }
            Map<String, Object> res = run(variant, 1, List.of(input("h", in), output("f", 4 * count, 0xff)), calls,
                    "f");
            float[] got = floats(out(res, "f"));
            for (int i = 0; i < count; i++) {
                short h = (short) ((in[2 * i] & 0xff) | (in[2 * i + 1] & 0xff) << 8);
                int want = Float.floatToRawIntBits(Float.float16ToFloat(h)), bits = Float.floatToRawIntBits(got[i]);
                int idx = i;
                assertEquals(want, bits, () -> variant + ": f16 0x" + Integer.toHexString(h & 0xffff) + " -> "
                        + Float.intBitsToFloat(bits) + ", expected " + Float.intBitsToFloat(want) + " (value " + idx
                        + ")");
            }
            List<?> scalars = (List<?>) res.get("returns");
            int[] hs = SCALAR_F16;
            for (int i = 0; i < hs.length; i++) {
                double got1 = ((Number) scalars.get(i + 1)).doubleValue();
                float want = Float.float16ToFloat((short) hs[i]);
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits((float) got1),
                        variant + ": scalar f16 0x" + Integer.toHexString(hs[i]) + " -> " + got1);
            }
        }
    }

    // ------------------------------------------------------------------ quantized mat-vecs

    @ParameterizedTest(name = "matvec_q4_0_q8_0 rows={0} cols={1} misalign={2}")
    @CsvSource({"1,32,0", "9,96,0", "67,416,3", "130,2048,0", "64,4096,1"})
    void matvecQ4_0MatchesReferenceAndAllVariantsAgree(int rows, int cols, int misalign) {
        requirePage();
        SplittableRandom rnd = new SplittableRandom(0x40L * rows + cols);
        byte[] w = GgmlReference.randomBlocks(rnd, rows * cols / QK, Q4_0_BYTES, 0.002, 0.03, true);
        float[] x = randomFloats(rnd, cols, 2.0);
        checkQuantizedMatvec("matvecQ4_0", w, x, rows, cols, misalign, GgmlReference::matvecQ4_0);
    }

    @ParameterizedTest(name = "matvec_q8_0_q8_0 rows={0} cols={1} misalign={2}")
    @CsvSource({"1,32,0", "9,96,0", "67,416,5", "130,2048,0"})
    void matvecQ8_0MatchesReferenceAndAllVariantsAgree(int rows, int cols, int misalign) {
        requirePage();
        SplittableRandom rnd = new SplittableRandom(0x80L * rows + cols);
        // random payload bytes cover the whole i8 range, -128 included (the relaxed build splits off bit 7)
        byte[] w = GgmlReference.randomBlocks(rnd, rows * cols / QK, Q8_0_BYTES, 0.0005, 0.004, true);
        w[2] = (byte) -128;
        float[] x = randomFloats(rnd, cols, 3.0);
        x[0] = -3.0f; // block 0's amax: its q is -127, meeting the weight -128
        checkQuantizedMatvec("matvecQ8_0", w, x, rows, cols, misalign, GgmlReference::matvecQ8_0);
    }

    interface QuantRef {
        double[] matvec(byte[] w, byte[] xq, int rows, int cols, double[] magnitude);
    }

    private void checkQuantizedMatvec(String fn, byte[] w, float[] x, int rows, int cols, int misalign, QuantRef ref) {
        checkQuantizedMatvec("quantizeQ8_0", GgmlReference.quantizeQ8Activations(x), 2e-6, fn, w, x, rows, cols,
                misalign, ref);
    }

    private void checkQuantizedMatvec(String quantFn, byte[] xqExpected, double relTol, String fn, byte[] w, float[] x,
            int rows, int cols, int misalign, QuantRef ref) {
        double[] mag = new double[rows];
        double[] expected = ref.matvec(w, xqExpected, rows, cols, mag);
        byte[] baseline = null;
        for (Object[] combo : COMBOS) {
            String variant = (String) combo[0];
            int threads = (Integer) combo[1];
            Map<String, Object> wIn = input("w", w);
            wIn.put("misalign", misalign);
            // every quantized format also runs the plain-SIMD wide path (widen_q8_0/widen_q8_k + *_w kernel), which
            // must give the same bytes
            boolean wide = true;
            boolean kq = quantFn.equals("quantizeQ8_K");
            List<Map<String, Object>> buffers = new ArrayList<>(List.of(wIn, input("x", floatBytes(x)),
                    output("xq", xqExpected.length, 0xff), output("y", rows * 4, 0xff)));
            List<Map<String, Object>> calls = new ArrayList<>(List.of(call(quantFn, "$x", "$xq", cols),
                    call(fn, "$w", "$xq", "$y", rows, cols)));
            if (wide) {
                buffers.add(output("xw", kq ? cols / 256 * 548 : cols / QK * 72, 0xff));
                buffers.add(output("yw", rows * 4, 0xff));
                calls.add(call(kq ? "widenQ8_K" : "widenQ8_0", "$xq", "$xw", cols));
                calls.add(call(fn + "W", "$w", "$xw", "$yw", rows, cols));
            }
            Map<String, Object> res = run(variant, threads, buffers, calls,
                    wide ? new String[] {"xq", "y", "yw"} : new String[] {"xq", "y"});
            String what = fn + " " + variant + " threads=" + threads;
            assertEquals(threads, ((Number) res.get("threads")).intValue(), what);
            assertArrayEquals(xqExpected, out(res, "xq"), what + ": activation quantization");
            byte[] yBytes = out(res, "y");
            if (wide) assertArrayEquals(yBytes, out(res, "yw"), what + ": wide (i16) path differs");
            float[] y = floats(yBytes);
            for (int r = 0; r < rows; r++) {
                double tol = relTol * mag[r] + 1e-6;
                int row = r;
                assertTrue(Float.isFinite(y[r]) && Math.abs(y[r] - expected[r]) <= tol,
                        () -> what + ": y[" + row + "] = " + y[row] + ", expected " + expected[row] + " (tol " + tol
                        + ")");
            }
            if (baseline == null) baseline = yBytes;
            else assertArrayEquals(baseline, yBytes, what + " is not bit-identical to plain/1 thread");
        }
    }

    // ------------------------------------------------------------------ K-quants (Q8_K activations)

    @ParameterizedTest(name = "quantize_q8_k {0}")
    @ValueSource(strings = {"plain", "relaxed"})
    void quantizeQ8KMatchesGgmlReferenceExactly(String variant) {
        requirePage();
        SplittableRandom rnd = new SplittableRandom(0x08CL);
        int nb = 7, n = nb * 256;
        float[] x = new float[n];
        double[] mags = {1e-3, 1.0, 300.0, 1e-7, 0.05, 7.0, 2.0};
        for (int b = 0; b < nb; b++) {
            for (int j = 0; j < 256; j++) x[b * 256 + j] = (float) ((rnd.nextDouble() * 2 - 1) * mags[b]);
        }
        for (int j = 0; j < 256; j++) x[256 + j] = 0f; // block 1 all zero: d = 0, qs = 0, bsums = 0
        // block 2: max = -127 => iscale = 1: x.5 values are exact ties, nearest_int rounds them to even
        float[] ties = {-127f, 2.5f, -2.5f, 0.5f, -0.5f, 1.5f, -1.5f, 126.5f, -126.5f, 3.5f, 100f, -0.49f};
        for (int j = 0; j < 256; j++) x[2 * 256 + j] = ties[j % ties.length];
        // block 5: +7 first (index 3), -7 later (index 200): the first one sets the sign of the scale
        x[5 * 256 + 3] = 7f;
        x[5 * 256 + 200] = -7f;
        // block 6: the only maximum is in the last lane of the last vector
        x[6 * 256 + 255] = -2.5f;
        assertQuantizesExactly(variant, "quantizeQ8_K", x, GgmlReference.quantizeQ8KActivations(x));
    }

    @ParameterizedTest(name = "matvec_q4_k_q8_k rows={0} cols={1} misalign={2}")
    @CsvSource({"1,256,0", "9,512,0", "67,2048,3", "130,2048,0", "33,8192,1"})
    void matvecQ4KMatchesReferenceAndAllVariantsAgree(int rows, int cols, int misalign) {
        requirePage();
        SplittableRandom rnd = new SplittableRandom(0x4CL * rows + cols);
        byte[] w = GgmlReference.randomKBlocks(rnd, rows * cols / 256, GgmlReference.Q4_K_BYTES, new int[] {0, 2},
                0.0005, 0.004);
        float[] x = randomFloats(rnd, cols, 2.0);
        checkQuantizedMatvec("quantizeQ8_K", GgmlReference.quantizeQ8KActivations(x), 1e-5, "matvecQ4_K", w, x, rows,
                cols, misalign, GgmlReference::matvecQ4K);
    }

    @ParameterizedTest(name = "matvec_q6_k_q8_k rows={0} cols={1} misalign={2}")
    @CsvSource({"1,256,0", "9,512,0", "67,2048,5", "130,2048,0", "33,8192,2"})
    void matvecQ6KMatchesReferenceAndAllVariantsAgree(int rows, int cols, int misalign) {
        requirePage();
        SplittableRandom rnd = new SplittableRandom(0x6CL * rows + cols);
        // random bytes: every 6-bit value and every i8 scale, -128 included
        // scales down to 1e-5: Q6_K d of real-sized weights is often a subnormal f16
        byte[] w = GgmlReference.randomKBlocks(rnd, rows * cols / 256, GgmlReference.Q6_K_BYTES, new int[] {208},
                0.00001, 0.001);
        w[192] = (byte) -128;
        float[] x = randomFloats(rnd, cols, 3.0);
        checkQuantizedMatvec("quantizeQ8_K", GgmlReference.quantizeQ8KActivations(x), 1e-5, "matvecQ6_K", w, x, rows,
                cols, misalign, GgmlReference::matvecQ6K);
    }

    // ------------------------------------------------------------------ prefill mat-muls

    /**
     * matmul over nTok tokens (activation buffers back to back, outputs with a poisoned gap between tokens) equals
     * nTok separate mat-vecs of the same build bit for bit, matches the reference, and all four builds agree.
     */
    @ParameterizedTest(name = "{0} rows={1} cols={2} tokens={3}")
    @CsvSource({"Q4_0,67,512,3", "Q8_0,67,512,2", "Q4_K,67,512,3", "Q6_K,45,768,4", "Q4_0,130,2048,5",
            "Q4_K,20,8192,2", "Q4_K,67,512,6", "Q4_K,9,2048,9", "Q6_K,13,2048,7"})
    void prefillMatmulEqualsPerTokenMatvecs(String type, int rows, int cols, int nTok) {
        requirePage();
        SplittableRandom rnd = new SplittableRandom(type.hashCode() * 31L + rows * 7L + nTok);
        boolean k = type.endsWith("_K");
        byte[] w = switch (type) {
            case "Q4_0" -> GgmlReference.randomBlocks(rnd, rows * cols / QK, Q4_0_BYTES, 0.002, 0.03, true);
            case "Q8_0" -> GgmlReference.randomBlocks(rnd, rows * cols / QK, Q8_0_BYTES, 0.0005, 0.004, true);
            case "Q4_K" -> GgmlReference.randomKBlocks(rnd, rows * cols / 256, GgmlReference.Q4_K_BYTES,
                    new int[] {0, 2},
                    0.0005, 0.004);
            default -> GgmlReference.randomKBlocks(rnd, rows * cols / 256, GgmlReference.Q6_K_BYTES, new int[] {208},
                    0.0001, 0.001);
        };
        QuantRef ref = switch (type) {
            case "Q4_0" -> GgmlReference::matvecQ4_0;
            case "Q8_0" -> GgmlReference::matvecQ8_0;
            case "Q4_K" -> GgmlReference::matvecQ4K;
            default -> GgmlReference::matvecQ6K;
        };
        int xqBytes = k ? cols / 256 * GgmlReference.Q8_K_BYTES : cols / QK * 40;
        int xStride = xqBytes + 16, outStride = rows * 4 + 32; // gaps: the kernels must honour the strides
        byte[] xqAll = new byte[xStride * nTok];
        double[][] expected = new double[nTok][], mags = new double[nTok][];
        for (int t = 0; t < nTok; t++) {
            float[] x = randomFloats(rnd, cols, 2.0);
            byte[] xq = k ? GgmlReference.quantizeQ8KActivations(x) : GgmlReference.quantizeQ8Activations(x);
            System.arraycopy(xq, 0, xqAll, t * xStride, xq.length);
            mags[t] = new double[rows];
            expected[t] = ref.matvec(w, xq, rows, cols, mags[t]);
        }
        List<Map<String, Object>> calls = new ArrayList<>();
        calls.add(call("matmul" + type, "$w", "$xq", "$y", rows, cols, nTok, xStride, outStride));
        boolean wide = true; // the plain-SIMD wide path too (widen each token, then matmul*W)
        int xwStride = (k ? cols / 256 * 548 : cols / QK * 72) + 48;
        if (wide) {
            for (int t = 0; t < nTok; t++) {
                calls.add(call(k ? "widenQ8_K" : "widenQ8_0", "$xq+" + t * xStride, "$xw+" + t * xwStride, cols));
            }
            calls.add(call("matmul" + type + "W", "$w", "$xw", "$yw", rows, cols, nTok, xwStride, outStride));
        }
        for (int t = 0; t < nTok; t++) {
            calls.add(call("matvec" + type, "$w", "$xq+" + t * xStride, "$single+" + t * outStride, rows, cols));
        }
        byte[] baseline = null;
        for (Object[] combo : COMBOS) {
            String what = "matmul" + type + " " + combo[0] + " threads=" + combo[1];
            List<Map<String, Object>> buffers = new ArrayList<>(List.of(input("w", w), input("xq", xqAll),
                    output("y", outStride * nTok, 0xff), output("single", outStride * nTok, 0xff)));
            if (wide) {
                buffers.add(output("xw", xwStride * nTok, 0xff));
                buffers.add(output("yw", outStride * nTok, 0xff));
            }
            Map<String, Object> res = run((String) combo[0], (Integer) combo[1], buffers, calls,
                    wide ? new String[] {"y", "single", "yw"} : new String[] {"y", "single"});
            byte[] y = out(res, "y");
            if (wide) assertArrayEquals(y, out(res, "yw"), what + ": wide (i16) mat-mul differs");
            assertArrayEquals(out(res, "single"), y, what + ": differs from per-token mat-vecs (or wrote into a gap)");
            for (int t = 0; t < nTok; t++) {
                float[] yt = floats(java.util.Arrays.copyOfRange(y, t * outStride, t * outStride + rows * 4));
                for (int r = 0; r < rows; r++) {
                    double tol = 1e-5 * mags[t][r] + 1e-6;
                    int tok = t, row = r;
                    assertTrue(Math.abs(yt[r] - expected[t][r]) <= tol,
                            () -> what + ": token " + tok + " y[" + row + "] = " + yt[row] + ", expected "
                            + expected[tok][row]);
                }
                for (int i = t * outStride + rows * 4; i < (t + 1) * outStride; i++) {
                    assertEquals((byte) 0xff, y[i], what + ": gap byte " + i + " was written");
                }
            }
            if (baseline == null) baseline = y;
            else assertArrayEquals(baseline, y, what + " is not bit-identical to plain/1 thread");
        }
    }

    /**
     * The 4-row interleaved Q4_0 layout: after repackQ4_0X4 the x4 mat-vec and mat-mul give the same bytes as the
     * original-layout kernels on the original bytes (every build, 1 and 2 threads, row splits included), and
     * dequantRowQ4_0X4 gives ggml's d * (q - 8) for any row. repackQ4_0X4 counts the subnormal scales, and the
     * mat-vec for matrices without them (noSubnormalScales) gives the same bytes too - on subnormal, zero and -0
     * scales as well (specials: every 7th block's scale subnormal, every 11th +-0).
     */
    @ParameterizedTest(name = "Q4_0 x4 rows={0} cols={1} tokens={2} special scales={3}")
    @CsvSource({"4,128,1,false", "12,384,6,true", "132,2048,5,false", "64,8192,4,true", "8,256,9,false"})
    void q4_0x4LayoutGivesTheOriginalLayoutsOutputsBitForBit(int rows, int cols, int nTok, boolean specials) {
        requirePage();
        SplittableRandom rnd = new SplittableRandom(0x44L * rows + cols + nTok);
        byte[] w = GgmlReference.randomBlocks(rnd, rows * cols / QK, Q4_0_BYTES, 0.002, 0.03, true);
        int subnormal = 0;
        for (int b = 0; specials && b < rows * cols / QK; b++) {
            int d = b % 7 == 0 ? 1 + rnd.nextInt(0x3ff) | (rnd.nextBoolean() ? 0x8000 : 0) : b % 11 == 0 ? (b % 2) << 15 : -1;
            if (d >= 0) {
                w[b * Q4_0_BYTES] = (byte) d;
                w[b * Q4_0_BYTES + 1] = (byte) (d >> 8);
                subnormal += b % 7 == 0 ? 1 : 0;
            }
        }
        int xqBytes = cols / QK * 40, xStride = xqBytes + 16, outStride = rows * 4 + 32;
        byte[] xqAll = new byte[xStride * nTok];
        for (int t = 0; t < nTok; t++) {
            byte[] xq = GgmlReference.quantizeQ8Activations(randomFloats(rnd, cols, 2.0));
            System.arraycopy(xq, 0, xqAll, t * xStride, xq.length);
        }
        int[] dequantRows = {0, rows / 2 + 1, rows - 1};
        List<Map<String, Object>> calls = new ArrayList<>(List.of(
                call("matvecQ4_0", "$w", "$xq", "$y", rows, cols),
                call("matmulQ4_0", "$w", "$xq", "$m", rows, cols, nTok, xStride, outStride),
                call("repackQ4_0X4", "$wx", rows, cols),
                call("matvecQ4_0X4", "$wx", "$xq", "$yx", rows, cols),
                call("matvecQ4_0X4", "$wx", "$xq", "$yn", rows, cols, true),
                call("matmulQ4_0X4", "$wx", "$xq", "$mx", rows, cols, nTok, xStride, outStride)));
        for (int i = 0; i < dequantRows.length; i++) {
            calls.add(call("dequantRowQ4_0X4", "$wx", dequantRows[i], cols, "$row+" + i * cols * 4));
        }
        byte[] baseline = null;
        for (Object[] combo : COMBOS) {
            String what = "Q4_0 x4 " + combo[0] + " threads=" + combo[1];
            Map<String, Object> res = run((String) combo[0], (Integer) combo[1],
                    List.of(input("w", w), input("wx", w), input("xq", xqAll), output("y", rows * 4, 0xff),
                            output("yx", rows * 4, 0xff), output("yn", rows * 4, 0xff),
                            output("m", outStride * nTok, 0xff), output("mx", outStride * nTok, 0xff),
                            output("row", dequantRows.length * cols * 4, 0xff)),
                    calls, "y", "yx", "yn", "m", "mx", "wx", "row");
            byte[] y = out(res, "y");
            assertArrayEquals(y, out(res, "yx"), what + ": x4 mat-vec differs from the original layout's");
            assertArrayEquals(y, out(res, "yn"), what + ": x4 mat-vec for scales without subnormals differs");
            assertEquals(subnormal, ((Number) ((List<?>) res.get("returns")).get(2)).intValue(),
                    what + ": subnormal scales counted by the repack");
            assertArrayEquals(out(res, "m"), out(res, "mx"), what + ": x4 mat-mul differs (or wrote into a gap)");
            assertArrayEquals(java.util.Arrays.copyOf(out(res, "m"), rows * 4), y,
                    what + ": mat-mul token 0 != mat-vec");
            assertFalse(java.util.Arrays.equals(w, out(res, "wx")), what + ": repack left the bytes as they were");
            float[] got = floats(out(res, "row"));
            for (int i = 0; i < dequantRows.length; i++) {
                for (int j = 0; j < cols; j++) {
                    int p = (dequantRows[i] * (cols / QK) + j / QK) * Q4_0_BYTES;
                    float d = Float.float16ToFloat((short) ((w[p] & 0xff) | (w[p + 1] & 0xff) << 8));
                    int q = w[p + 2 + j % 16] & 0xff;
                    int nib = j % QK < 16 ? q & 15 : q >> 4;
                    assertEquals((float) (nib - 8) * d, got[i * cols + j],
                            what + ": dequantized row " + dequantRows[i] + " value " + j);
                }
            }
            if (baseline == null) baseline = y;
            else assertArrayEquals(baseline, y, what + " is not bit-identical to plain/1 thread");
        }
    }

    /**
     * A job group (beginJobGroup .. endJobGroup: one hand-off for several row kernels) gives every kernel's output
     * exactly as the kernel called alone: mixed formats on their own activation buffers, a 4-token mat-mul, and more
     * kernels than one job carries (MAX_SEGMENTS = 4, so the group runs in two jobs), in every build and thread count.
     */
    @Test
    void jobGroupGivesEachKernelsOutputAsAlone() {
        requirePage();
        SplittableRandom rnd = new SplittableRandom(0x6809L);
        int cols = 512, r0 = 68, rk = 36, r6 = 20, r8 = 44, nTok = 4;
        byte[] w0 = GgmlReference.randomBlocks(rnd, r0 * cols / QK, Q4_0_BYTES, 0.002, 0.03, true);
        byte[] w8 = GgmlReference.randomBlocks(rnd, r8 * cols / QK, Q8_0_BYTES, 0.0005, 0.004, true);
        byte[] wk = GgmlReference.randomKBlocks(rnd, rk * cols / 256, GgmlReference.Q4_K_BYTES, new int[] {0, 2},
                0.0005, 0.004);
        byte[] w6 = GgmlReference.randomKBlocks(rnd, r6 * cols / 256, GgmlReference.Q6_K_BYTES, new int[] {208}, 0.0001,
                0.001);
        float[] x = randomFloats(rnd, cols * nTok, 2.0);
        int xq = cols / QK * 40, xk = cols / 256 * GgmlReference.Q8_K_BYTES;
        String[] outs = {"a0", "ak", "a6", "am", "a8", "ax"};
        List<Map<String, Object>> calls = new ArrayList<>();
        for (int t = 0; t < nTok; t++) {
            calls.add(call("quantizeQ8_0", "$x+" + 4 * cols * t, "$xq+" + xq * t, cols));
            calls.add(call("quantizeQ8_K", "$x+" + 4 * cols * t, "$xk+" + xk * t, cols));
        }
        for (String prefix : new String[] {"s", "g"}) { // s: one by one; g: the same calls in one group
            if (prefix.equals("g")) calls.add(call("beginJobGroup"));
            calls.add(call("matvecQ4_0", "$w0", "$xq", "$" + prefix + "a0", r0, cols));
            calls.add(call("matvecQ4_K", "$wk", "$xk", "$" + prefix + "ak", rk, cols));
            calls.add(call("matvecQ6_K", "$w6", "$xk", "$" + prefix + "a6", r6, cols));
            calls.add(call("matmulQ4_K", "$wk", "$xk", "$" + prefix + "am", rk, cols, nTok, xk, rk * 4));
            calls.add(call("matvecQ8_0", "$w8", "$xq", "$" + prefix + "a8", r8, cols));
            calls.add(call("matvecQ4_0", "$w0", "$xq+" + xq, "$" + prefix + "ax", r0, cols));
            if (prefix.equals("g")) calls.add(call("endJobGroup"));
        }
        int[] sizes = {r0 * 4, rk * 4, r6 * 4, rk * 4 * nTok, r8 * 4, r0 * 4};
        Map<String, byte[]> baseline = new LinkedHashMap<>();
        for (Object[] combo : COMBOS) {
            String what = "job group " + combo[0] + " threads=" + combo[1];
            List<Map<String, Object>> buffers = new ArrayList<>(List.of(input("w0", w0), input("w8", w8),
                    input("wk", wk),
                    input("w6", w6), input("x", floatBytes(x)), output("xq", xq * nTok, 0),
                    output("xk", xk * nTok, 0)));
            List<String> names = new ArrayList<>();
            for (int i = 0; i < outs.length; i++) {
                for (String prefix : new String[] {"s", "g"}) {
                    buffers.add(output(prefix + outs[i], sizes[i], 0xff));
                    names.add(prefix + outs[i]);
                }
            }
            Map<String, Object> res = run((String) combo[0], (Integer) combo[1], buffers, calls,
                    names.toArray(String[]::new));
            for (String o : outs) {
                byte[] alone = out(res, "s" + o);
                assertArrayEquals(alone, out(res, "g" + o), what + ": " + o + " differs inside the group");
                for (int i = 0; i < alone.length; i += 4) { // every float written: none left as the 0xffffffff poison
                    int at = i;
                    assertFalse(alone[i] == -1 && alone[i + 1] == -1 && alone[i + 2] == -1 && alone[i + 3] == -1,
                            () -> what + ": " + o + " float " + at / 4 + " was not written");
                }
                baseline.putIfAbsent(o, alone);
                assertArrayEquals(baseline.get(o), alone, what + ": " + o + " is not bit-identical to plain/1 thread");
            }
        }
    }

    /** Misused job groups fail clearly and leave the kernels usable: nested, unopened, and attention inside one. */
    @Test
    void jobGroupMisuseIsRejected() {
        requirePage();
        for (Object[] combo : COMBOS) {
            String what = combo[0] + " threads=" + combo[1];
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("variant", combo[0]);
            spec.put("threads", combo[1]);
            spec.put("buffers", List.of(output("q", 64, 0), output("o", 64, 0), output("s", 64, 0)));
            spec.put("outputs", List.of());
            spec.put("calls", List.of(call("beginJobGroup"), call("beginJobGroup")));
            assertTrue(String.valueOf(harness.call("run", spec).get("error")).contains("already open"),
                    what + ": nested");
            spec.put("calls", List.of(call("attention", "$q", "$q", "$q", "$o", "$s", 1, 1, 4, 1, 0.5)));
            assertTrue(String.valueOf(harness.call("run", spec).get("error")).contains("not inside a job group"),
                    what + ": attention inside a group");
            spec.put("calls", List.of(call("endJobGroup")));
            assertNull(harness.call("run", spec).get("error"), what + ": closing the open group");
            assertTrue(String.valueOf(harness.call("run", spec).get("error")).contains("without beginJobGroup"),
                    what + ": end without begin");
        }
    }

    @Test
    void rowRangeWritesOnlyItsRows() {
        requirePage();
        int rows = 16, cols = 256;
        SplittableRandom rnd = new SplittableRandom(7);
        byte[] w = GgmlReference.randomBlocks(rnd, rows * cols / QK, Q4_0_BYTES, 0.002, 0.03, true);
        float[] x = randomFloats(rnd, cols, 1.0);
        for (String variant : new String[] {"plain", "relaxed"}) {
            Map<String, Object> res = run(variant, 1,
                    List.of(input("w", w), input("x", floatBytes(x)), output("xq", cols / QK * 40, 0),
                            output("full", rows * 4, 0xff), output("part", rows * 4, 0xff)),
                    List.of(call("quantizeQ8_0", "$x", "$xq", cols),
                            call("matvecQ4_0", "$w", "$xq", "$full", rows, cols),
                            call("raw:matvec_q4_0_q8_0", "$w", "$xq", "$part", 3, 9, cols)),
                    "full", "part");
            byte[] full = out(res, "full"), part = out(res, "part");
            for (int i = 0; i < rows * 4; i++) {
                int row = i / 4;
                byte want = row >= 3 && row < 9 ? full[i] : (byte) 0xff;
                assertEquals(want, part[i], variant + ": byte " + i + " of row " + row);
            }
        }
    }

    // ------------------------------------------------------------------ f32

    @ParameterizedTest(name = "matvec_f32 rows={0} cols={1}")
    @CsvSource({"1,1", "33,67", "40,2048", "130,19"})
    void matvecF32MatchesReference(int rows, int cols) {
        requirePage();
        SplittableRandom rnd = new SplittableRandom(0xF32L * rows + cols);
        float[] w = randomFloats(rnd, rows * cols, 1.0);
        float[] x = randomFloats(rnd, cols, 1.0);
        byte[] baseline = null;
        for (Object[] combo : COMBOS) {
            Map<String, Object> res = run((String) combo[0], (Integer) combo[1],
                    List.of(input("w", floatBytes(w)), input("x", floatBytes(x)), output("y", rows * 4, 0xff)),
                    List.of(call("matvecF32", "$w", "$x", "$y", rows, cols)), "y");
            byte[] yb = out(res, "y");
            float[] y = floats(yb);
            for (int r = 0; r < rows; r++) {
                double sum = 0, mag = 0;
                for (int c = 0; c < cols; c++) {
                    double p = (double) w[r * cols + c] * x[c];
                    sum += p;
                    mag += Math.abs(p);
                }
                double ref = sum, tol = 1e-6 * mag + 1e-7;
                int row = r;
                assertTrue(Math.abs(y[r] - ref) <= tol, () -> "y[" + row + "] = " + y[row] + ", expected " + ref);
            }
            if (baseline == null) baseline = yb;
            else assertArrayEquals(baseline, yb, "matvec_f32 " + combo[0] + "/" + combo[1] + " differs from plain/1");
        }
    }

    // ------------------------------------------------------------------ element-wise

    @ParameterizedTest(name = "rmsnorm n={0} {1}")
    @CsvSource({"2048,plain", "2048,relaxed", "67,plain", "3,relaxed"})
    void rmsnormMatchesReference(int n, String variant) {
        requirePage();
        SplittableRandom rnd = new SplittableRandom(n);
        float[] x = randomFloats(rnd, n, 4.0);
        float[] g = randomFloats(rnd, n, 1.5);
        float eps = 1e-5f;
        Map<String, Object> res = run(variant, 1,
                List.of(input("x", floatBytes(x)), input("g", floatBytes(g)), output("y", n * 4, 0xff)),
                List.of(call("rmsnorm", "$x", "$g", "$y", n, (double) eps)), "y");
        float[] y = floats(out(res, "y"));
        double ss = 0;
        for (float v : x) ss += (double) v * v;
        double scale = 1.0 / Math.sqrt(ss / n + eps);
        for (int i = 0; i < n; i++) {
            double ref = x[i] * scale * g[i];
            assertClose(ref, y[i], 1e-6, 1e-7, "rmsnorm y[" + i + "]");
        }
    }

    @Test
    void swigluMatchesReference() {
        requirePage();
        int n = 8195;
        SplittableRandom rnd = new SplittableRandom(11);
        float[] gate = randomFloats(rnd, n, 12.0);
        float[] up = randomFloats(rnd, n, 2.0);
        gate[0] = -100f;
        gate[1] = 100f;
        gate[2] = 0f;
        for (String variant : new String[] {"plain", "relaxed"}) {
            Map<String, Object> res = run(variant, 1,
                    List.of(input("g", floatBytes(gate)), input("u", floatBytes(up)), output("y", n * 4, 0xff)),
                    List.of(call("swiglu", "$g", "$u", "$y", n)), "y");
            float[] y = floats(out(res, "y"));
            for (int i = 0; i < n; i++) {
                double ref = gate[i] / (1.0 + Math.exp(-gate[i])) * up[i];
                assertClose(ref, y[i], 3e-6, 1e-30, variant + " swiglu y[" + i + "] (gate " + gate[i] + ")");
            }
        }
    }

    @Test
    void expMatchesReferenceAndUnderflowsToZero() {
        requirePage();
        int n = 4099;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -100f + 188f * i / (n - 1); // -100 .. 88
        x[5] = Float.NEGATIVE_INFINITY;
        Map<String, Object> res = run("plain", 1, List.of(input("x", floatBytes(x)), output("y", n * 4, 0xff)),
                List.of(call("exp", "$x", "$y", n)), "y");
        float[] y = floats(out(res, "y"));
        for (int i = 0; i < n; i++) {
            if (x[i] < -87.33f) {
                assertEquals(0f, y[i], "exp(" + x[i] + ") flushes to 0");
            } else {
                assertClose(Math.exp(x[i]), y[i], 2e-6, 0, "exp(" + x[i] + ")");
            }
        }
    }

    @Test
    void softmaxMatchesReferenceWithMaskedEntries() {
        requirePage();
        int n = 1003;
        SplittableRandom rnd = new SplittableRandom(13);
        float[] x = randomFloats(rnd, n, 10.0);
        for (int i = 500; i < n; i += 7) x[i] = Float.NEGATIVE_INFINITY; // causal-mask style entries
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : x) max = Math.max(max, v);
        for (float v : x) sum += Math.exp(v - max);
        Map<String, Object> res = run("relaxed", 1, List.of(input("x", floatBytes(x))),
                List.of(call("softmax", "$x", n)), "x");
        float[] y = floats(out(res, "x"));
        for (int i = 0; i < n; i++) {
            if (x[i] == Float.NEGATIVE_INFINITY) {
                assertEquals(0f, y[i], "masked entry " + i);
            } else {
                assertClose(Math.exp(x[i] - max) / sum, y[i], 1e-5, 1e-12, "softmax[" + i + "]");
            }
        }
    }

    @Test
    void attentionHelpersMatchReference() {
        requirePage();
        int nPos = 37, headDim = 64, kvHeads = 2, head = 1;
        int strideBytes = kvHeads * headDim * 4; // interleaved KV heads, reading head 1
        SplittableRandom rnd = new SplittableRandom(17);
        float[] q = randomFloats(rnd, headDim, 1.0);
        float[] k = randomFloats(rnd, nPos * kvHeads * headDim, 1.0);
        float[] v = randomFloats(rnd, nPos * kvHeads * headDim, 1.0);
        float scale = 0.125f;
        Map<String, Object> res = run("plain", 1,
                List.of(input("q", floatBytes(q)), input("k", floatBytes(k)), input("v", floatBytes(v)),
                        output("s", nPos * 4, 0xff), output("o", headDim * 4, 0xff)),
                List.of(call("attnScores", "$q", "$k+" + head * headDim * 4,
                "$s", nPos, headDim, strideBytes, (double) scale),
                        call("raw:attn_values", "$s", "$v+" + head * headDim * 4, "$o", nPos, headDim, strideBytes)),
                "s", "o");
        // attn_values was given the raw scores as weights, so both outputs check against the same scores
        float[] s = floats(out(res, "s"));
        float[] o = floats(out(res, "o"));
        double[] sRef = new double[nPos];
        for (int p = 0; p < nPos; p++) {
            double dot = 0, mag = 0;
            for (int d = 0; d < headDim; d++) {
                double t = (double) q[d] * k[(p * kvHeads + head) * headDim + d];
                dot += t;
                mag += Math.abs(t);
            }
            sRef[p] = dot * scale;
            assertTrue(Math.abs(s[p] - sRef[p]) <= 1e-6 * mag + 1e-7, "score " + p + ": " + s[p] + " vs " + sRef[p]);
        }
        for (int d = 0; d < headDim; d++) {
            double acc = 0, mag = 0;
            for (int p = 0; p < nPos; p++) {
                double t = s[p] * (double) v[(p * kvHeads + head) * headDim + d];
                acc += t;
                mag += Math.abs(t);
            }
            assertTrue(Math.abs(o[d] - acc) <= 1e-6 * mag + 1e-7, "out " + d + ": " + o[d] + " vs " + acc);
        }
    }

    // ------------------------------------------------------------------ decode-step helpers (one call per step)

    /**
     * attention (all heads in one call, split across the threads) equals the per-head attn_scores / softmax /
     * attn_values calls bit for bit in every build, and is close to a double reference.
     */
    @ParameterizedTest(name = "attention heads={0}/{1} headDim={2} positions={3}")
    @CsvSource({"32,8,64,160", "4,2,16,7", "8,1,32,1", "4,4,12,3", "6,3,64,40"})
    void attentionOfAllHeadsEqualsPerHeadKernels(int heads, int kvHeads, int headDim, int nPos) {
        requirePage();
        SplittableRandom rnd = new SplittableRandom(heads * 1000L + nPos);
        float[] q = randomFloats(rnd, heads * headDim, 1.0);
        float[] k = randomFloats(rnd, nPos * kvHeads * headDim, 1.0);
        float[] v = randomFloats(rnd, nPos * kvHeads * headDim, 1.0);
        float scale = (float) (1 / Math.sqrt(headDim));
        int stride = 4 * kvHeads * headDim, group = heads / kvHeads;
        List<Map<String, Object>> calls = new ArrayList<>();
        calls.add(call("attention", "$q", "$k", "$v", "$out", "$sc", heads, kvHeads, headDim, nPos, scale));
        for (int h = 0; h < heads; h++) {
            int kvo = 4 * (h / group) * headDim;
            calls.add(call("raw:attn_scores", "$q+" + 4 * h * headDim, "$k+" + kvo,
                    "$sc1", nPos, headDim, stride, scale));
            calls.add(call("raw:softmax", "$sc1", nPos));
            calls.add(call("raw:attn_values", "$sc1", "$v+" + kvo,
                    "$single+" + 4 * h * headDim, nPos, headDim, stride));
        }
        byte[] baseline = null;
        for (Object[] combo : COMBOS) {
            String what = "attention " + combo[0] + " threads=" + combo[1];
            Map<String, Object> res = run((String) combo[0], (Integer) combo[1],
                    List.of(input("q", floatBytes(q)), input("k", floatBytes(k)), input("v", floatBytes(v)),
                            output("out", 4 * heads * headDim, 0xff), output("sc", 4 * heads * nPos, 0xff),
                            output("sc1", 4 * nPos, 0xff), output("single", 4 * heads * headDim, 0xff)),
                    calls, "out", "single");
            byte[] o = out(res, "out");
            assertArrayEquals(out(res, "single"), o, what + ": differs from the per-head kernels");
            if (baseline == null) baseline = o;
            else assertArrayEquals(baseline, o, what + " is not bit-identical to plain/1 thread");
        }
        float[] got = floats(baseline);
        for (int h = 0; h < heads; h++) {
            double[] s = new double[nPos];
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int p = 0; p < nPos; p++) {
                for (int d = 0; d < headDim; d++) s[p] += (double) q[h * headDim + d] * k[p * kvHeads * headDim + (h / group) * headDim + d];
                s[p] *= scale;
                max = Math.max(max, s[p]);
            }
            for (int p = 0; p < nPos; p++) sum += s[p] = Math.exp(s[p] - max);
            for (int d = 0; d < headDim; d++) {
                double acc = 0;
                for (int p = 0; p < nPos; p++) acc += s[p] / sum * v[p * kvHeads * headDim + (h / group) * headDim + d];
                assertClose(acc, got[h * headDim + d], 1e-5, 1e-6, "attention head " + h + " d " + d);
            }
        }
    }

    /** rope equals the scalar rotation with every product and sum rounded to f32 (Java float arithmetic), bit for bit. */
    @ParameterizedTest(name = "rope heads={0} headDim={1}")
    @CsvSource({"32,64", "8,64", "3,6", "2,2"})
    void ropeEqualsScalarFloatRotation(int heads, int headDim) {
        requirePage();
        SplittableRandom rnd = new SplittableRandom(heads * 31L + headDim);
        float[] x = randomFloats(rnd, heads * headDim, 50.0);
        float[] cs = randomFloats(rnd, headDim, 1.0);
        float[] expected = x.clone();
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                int j = h * headDim + 2 * i;
                float a = x[j], b = x[j + 1], c = cs[i], s = cs[half + i];
                expected[j] = a * c - b * s;
                expected[j + 1] = a * s + b * c;
            }
        }
        for (String variant : new String[] {"plain", "relaxed"}) {
            Map<String, Object> res = run(variant, 1, List.of(input("x", floatBytes(x)), input("cs", floatBytes(cs))),
                    List.of(call("rope", "$x", heads, headDim, "$cs")), "x");
            assertArrayEquals(floatBytes(expected), out(res, "x"), "rope " + variant);
        }
    }

    @Test
    void addAndArgmaxEqualScalarForms() {
        requirePage();
        SplittableRandom rnd = new SplittableRandom(99);
        for (int n : new int[] {1, 3, 4, 37, 2048, 128256}) {
            float[] y = randomFloats(rnd, n, 3.0), x = randomFloats(rnd, n, 3.0);
            float[] sum = new float[n];
            for (int i = 0; i < n; i++) sum[i] = y[i] + x[i];
            // argmax inputs: ties (integers), a NaN, negative values only; lowest index wins a tie, NaNs are skipped
            float[] l = new float[n];
            for (int i = 0; i < n; i++) l[i] = (float) Math.floor(rnd.nextDouble(-20, 5)) - (n % 2 == 0 ? 0 : 30);
            if (n > 5) l[5] = Float.NaN;
            int best = 0;
            for (int i = 1; i < n; i++) if (l[i] > l[best]) best = i;
            for (String variant : new String[] {"plain", "relaxed"}) {
                Map<String, Object> res = run(variant, 1,
                        List.of(input("y", floatBytes(y)), input("x", floatBytes(x)), input("l", floatBytes(l))),
                        List.of(call("add", "$y", "$x", n), call("argmax", "$l", n)), "y");
                assertArrayEquals(floatBytes(sum), out(res, "y"), "add n=" + n + " " + variant);
                assertEquals(best, ((Number) ((List<?>) res.get("returns")).get(1)).intValue(),
                        "argmax n=" + n + " " + variant);
            }
        }
        // a NaN at index 0 gives 0 (nothing compares greater), as the scalar scan
        Map<String, Object> res = run("relaxed", 1,
                List.of(input("l", floatBytes(new float[] {Float.NaN, 1f, 2f, 3f, 4f}))),
                List.of(call("argmax", "$l", 5)));
        assertEquals(0, ((Number) ((List<?>) res.get("returns")).get(0)).intValue(), "argmax with NaN first");
    }

    // ------------------------------------------------------------------ plumbing

    private Map<String, Object> run(String variant, int threads, List<Map<String, Object>> buffers,
            List<Map<String, Object>> calls, String... outputs) {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("variant", variant);
        spec.put("threads", threads);
        spec.put("buffers", buffers);
        spec.put("calls", calls);
        spec.put("outputs", List.of(outputs));
        Map<String, Object> res = harness.call("run", spec);
        assertNull(res.get("error"), () -> variant + "/" + threads + " failed: " + res.get("error"));
        assertEquals(variant + (threads > 1 ? "-mt" : ""), res.get("variant"), "loader picked another build");
        assertEquals(threads - 1, ((Number) res.get("workers")).intValue(), "worker count");
        return res;
    }

    private static Map<String, Object> input(String name, byte[] data) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("b64", Base64.getEncoder().encodeToString(data));
        return m;
    }

    private static Map<String, Object> output(String name, int bytes, int poison) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("bytes", bytes);
        m.put("poison", poison);
        return m;
    }

    private static Map<String, Object> call(String fn, Object... args) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("fn", fn);
        m.put("args", new ArrayList<>(List.of(args)));
        return m;
    }

    @SuppressWarnings("unchecked")
    private static byte[] out(Map<String, Object> res, String name) {
        Map<String, Object> outs = (Map<String, Object>) res.get("outputs");
        return Base64.getDecoder().decode((String) outs.get(name));
    }

    private static void assertClose(double ref, float got, double rel, double abs, String what) {
        double tol = rel * Math.abs(ref) + abs;
        assertTrue(Math.abs(got - ref) <= tol, () -> what + " = " + got + ", expected " + ref + " (tol " + tol + ")");
    }

    static float[] randomFloats(SplittableRandom rnd, int n, double mag) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((rnd.nextDouble() * 2 - 1) * mag);
        return a;
    }

    static byte[] floatBytes(float[] a) {
        ByteBuffer bb = ByteBuffer.allocate(a.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : a) bb.putFloat(v);
        return bb.array();
    }

    static float[] floats(byte[] b) {
        float[] f = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }
}
