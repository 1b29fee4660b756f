package io.earnidle.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs every kernel in real headless Chromium WebGPU (SwiftShader) on seeded random inputs, with the
 * output buffer poisoned with NaN before each dispatch, and compares every element with a double
 * precision Java reference. WebGPU being unavailable is a failure, never a skip.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebGpuKernelsTest {
    private static final double REL_TOL = 1e-4;

    private KernelHarness harness;
    private Map<String, Object> init;

    @BeforeAll
    void startBrowser() throws Exception {
        harness = KernelHarness.start();
        init = harness.open();
    }

    @AfterAll
    void stopBrowser() {
        if (harness != null) harness.close();
    }

    /** Fails (with the adapter / error report) unless WebGPU initialised in the page. */
    private void requireWebGpu() {
        assertNotNull(init, "harness page returned no init report");
        if (!Boolean.TRUE.equals(init.get("ok"))) {
            fail("WebGPU unavailable in headless Chromium: " + init);
        }
    }

    @Test
    void webGpuAdapterIsAvailableWithSubgroups() {
        requireWebGpu();
        @SuppressWarnings("unchecked")
        Map<String, Object> adapter = (Map<String, Object>) init.get("adapter");
        assertNotNull(adapter, "no adapter info: " + init);
        // The software adapter the project tests on exposes subgroups; both reduction variants must be exercised.
        assertEquals(Boolean.TRUE, init.get("subgroupsSupported"), "subgroups not usable: " + init);
        assertEquals("subgroup", init.get("autoReduction"), "auto should pick subgroups when supported: " + init);
        @SuppressWarnings("unchecked")
        Map<String, Object> limits = (Map<String, Object>) init.get("limits");
        long maxInv = ((Number) limits.get("maxComputeInvocationsPerWorkgroup")).longValue();
        long wg = ((Number) init.get("defaultWorkgroupSize")).longValue();
        assertTrue(wg >= 1 && wg <= maxInv && Long.bitCount(wg) == 1, "bad default workgroup size " + wg + ": " + init);
    }

    static Stream<Arguments> matvecCases() {
        // reduction, inDim, outDim, workgroupSize (0 = runner default from device.limits), wOffset, maxWorkgroupsX
        return Stream.of(
                Arguments.of("workgroup", 67, 13, 0, 0, 0),
                Arguments.of("workgroup", 67, 13, 32, 0, 0),
                Arguments.of("workgroup", 67, 13, 16, 5, 4),
                Arguments.of("workgroup", 1, 3, 0, 0, 0),
                Arguments.of("workgroup", 200, 7, 256, 0, 0),
                Arguments.of("subgroup", 67, 13, 0, 0, 0),
                Arguments.of("subgroup", 67, 13, 32, 0, 0),
                Arguments.of("subgroup", 67, 13, 16, 5, 4),
                Arguments.of("subgroup", 3, 5, 2, 0, 0),
                Arguments.of("subgroup", 200, 7, 256, 0, 0));
    }

    @ParameterizedTest(name = "matvec_f32 {0} in={1} out={2} wg={3} wOffset={4} maxX={5}")
    @MethodSource("matvecCases")
    void matvecMatchesReference(String reduction, int in, int out, int wg, int wOffset, int maxX) {
        requireWebGpu();
        SplittableRandom rnd = new SplittableRandom(0x5EED_0000L + 31L * in + out + 7L * wg + wOffset);
        float[] w = randomFloats(rnd, wOffset + in * out);
        float[] x = randomFloats(rnd, in);

        Map<String, Object> arg = new HashMap<>();
        arg.put("reduction", reduction);
        arg.put("w", toList(w));
        arg.put("x", toList(x));
        arg.put("inDim", in);
        arg.put("outDim", out);
        arg.put("workgroupSize", wg);
        arg.put("wOffset", wOffset);
        arg.put("maxWorkgroupsX", maxX);
        Map<String, Object> res = harness.call("matvec", arg);
        assertNull(res.get("error"), () -> "kernel failed: " + res.get("error"));
        assertEquals(reduction, res.get("reduction"), "runner used another reduction variant");
        if (wg != 0) assertEquals(wg, ((Number) res.get("workgroupSize")).intValue());

        double[] got = values(res, out);
        for (int r = 0; r < out; r++) {
            double sum = 0;
            double mag = 0;
            for (int c = 0; c < in; c++) {
                double p = (double) w[wOffset + r * in + c] * x[c];
                sum += p;
                mag += Math.abs(p);
            }
            double ref = sum;
            // Relative to the result, plus a term for cancellation (f32 accumulation of `in` products).
            double tol = REL_TOL * Math.abs(ref) + 1e-5 * mag;
            int row = r;
            assertTrue(Math.abs(got[r] - ref) <= tol,
                    () -> "y[" + row + "] = " + got[row] + ", expected " + ref + " (tol " + tol + ") " + res);
        }
    }

    static Stream<Arguments> rmsnormCases() {
        // reduction, n, rows, workgroupSize (0 = default), maxWorkgroupsX
        return Stream.of(
                Arguments.of("workgroup", 67, 3, 0, 0),
                Arguments.of("workgroup", 67, 3, 32, 2),
                Arguments.of("workgroup", 5, 2, 16, 0),
                Arguments.of("subgroup", 67, 3, 0, 0),
                Arguments.of("subgroup", 67, 3, 32, 2),
                Arguments.of("subgroup", 5, 2, 16, 0));
    }

    @ParameterizedTest(name = "rmsnorm_f32 {0} n={1} rows={2} wg={3} maxX={4}")
    @MethodSource("rmsnormCases")
    void rmsnormMatchesReference(String reduction, int n, int rows, int wg, int maxX) {
        requireWebGpu();
        SplittableRandom rnd = new SplittableRandom(0xA11CEL + 131L * n + rows + 7L * wg);
        float[] x = randomFloats(rnd, n * rows);
        float[] weight = randomFloats(rnd, n);
        float eps = 1e-5f;

        Map<String, Object> arg = new HashMap<>();
        arg.put("reduction", reduction);
        arg.put("x", toList(x));
        arg.put("weight", toList(weight));
        arg.put("n", n);
        arg.put("rows", rows);
        arg.put("eps", (double) eps);
        arg.put("workgroupSize", wg);
        arg.put("maxWorkgroupsX", maxX);
        Map<String, Object> res = harness.call("rmsnorm", arg);
        assertNull(res.get("error"), () -> "kernel failed: " + res.get("error"));
        assertEquals(reduction, res.get("reduction"), "runner used another reduction variant");
        if (wg != 0) assertEquals(wg, ((Number) res.get("workgroupSize")).intValue());

        double[] got = values(res, n * rows);
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < n; i++) ss += (double) x[r * n + i] * x[r * n + i];
            double scale = 1.0 / Math.sqrt(ss / n + eps);
            for (int i = 0; i < n; i++) {
                int k = r * n + i;
                double ref = x[k] * scale * weight[i];
                double tol = REL_TOL * Math.abs(ref) + 1e-7;
                assertTrue(Math.abs(got[k] - ref) <= tol,
                        () -> "y[" + k + "] = " + got[k] + ", expected " + ref + " (tol " + tol + ") " + res);
            }
        }
    }

    private static float[] randomFloats(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextDouble() * 2.0 - 1.0);
        return a;
    }

    private static List<Double> toList(float[] a) {
        List<Double> l = new ArrayList<>(a.length);
        for (float v : a) l.add((double) v); // exact: every float is a double
        return l;
    }

    /** Output as doubles; a non-number (the harness stringifies NaN/Infinity, e.g. the poison) fails. */
    private static double[] values(Map<String, Object> res, int expectedLength) {
        Object y = res.get("y");
        assertTrue(y instanceof List<?>, () -> "no output array: " + res);
        List<?> list = (List<?>) y;
        assertEquals(expectedLength, list.size(), "output length");
        double[] d = new double[list.size()];
        for (int i = 0; i < d.length; i++) {
            Object v = list.get(i);
            int idx = i;
            assertTrue(v instanceof Number, () -> "y[" + idx + "] is not finite (unwritten or bad): " + v);
            d[i] = ((Number) v).doubleValue();
        }
        return d;
    }

    /**
     * KernelRunner reuses bind groups and read-back staging buffers across batches (a decode step binds the same
     * buffers every token): the same batch submitted again creates no bind group and no staging buffer, gives the
     * same results, and a replaced buffer gets a new bind group (a stale one would leave the new output unwritten).
     */
    @ParameterizedTest(name = "bind group and staging reuse, {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"subgroup", "workgroup"})
    void batchesReuseBindGroupsAndStagingBuffers(String reduction) {
        requireWebGpu();
        SplittableRandom rnd = new SplittableRandom(0xB1D6L + reduction.length());
        int inDim = 67, rows = 13, runs = 3;
        List<Double> w = new ArrayList<>(), x = new ArrayList<>();
        for (int i = 0; i < rows * inDim; i++) w.add((double) (float) (rnd.nextDouble() * 2 - 1));
        for (int i = 0; i < inDim; i++) x.add((double) (float) (rnd.nextDouble() * 2 - 1));
        double[] ref = new double[rows];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < inDim; c++) ref[r] += w.get(r * inDim + c) * x.get(c);
        }
        int best = 0;
        for (int r = 1; r < rows; r++) if (ref[r] > ref[best]) best = r;
        Map<String, Object> res = harness.call("reuse",
                Map.of("reduction", reduction, "w", w, "x", x, "inDim", inDim, "rows", rows, "runs", runs));
        assertNull(res.get("error"), () -> String.valueOf(res.get("error")));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> out = (List<Map<String, Object>>) res.get("runs");
        assertEquals(runs + 1, out.size());
        for (int i = 0; i <= runs; i++) {
            Map<String, Object> run = out.get(i);
            long groups = ((Number) run.get("bindGroups")).longValue(),
                    staging = ((Number) run.get("staging")).longValue();
            if (i == 0) {
                assertEquals(2, groups, "first submit: one bind group per dispatch " + run);
                // spares may exist
                assertTrue(staging <= 2, "first submit: at most one staging buffer per read " + run);
            } else if (i < runs) {
                assertEquals(0, groups, "same buffers again: no new bind group " + run);
                assertEquals(0, staging, "same read sizes again: no new staging buffer " + run);
            } else {
                assertEquals(2, groups, "y replaced: both dispatches that bind it get a new group " + run);
                assertEquals(0, staging, run.toString());
            }
            @SuppressWarnings("unchecked")
            List<Object> y = (List<Object>) run.get("y");
            for (int r = 0; r < rows; r++) {
                assertTrue(y.get(r) instanceof Number, "run " + i + " row " + r + " not finite: " + y.get(r));
                double got = ((Number) y.get(r)).doubleValue();
                assertTrue(Math.abs(got - ref[r]) <= REL_TOL * Math.max(1, Math.abs(ref[r])),
                        "run " + i + " row " + r + ": " + got + " vs " + ref[r]);
            }
            assertEquals(y, out.get(0).get("y"), "run " + i + " differs from the first");
            assertEquals(best, ((Number) run.get("id")).intValue(), "run " + i + " argmax");
        }
    }
}
