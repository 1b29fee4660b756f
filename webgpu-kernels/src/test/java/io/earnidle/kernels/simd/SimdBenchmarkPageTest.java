package io.earnidle.kernels.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Drives the micro-benchmark page (simd-harness/bench.html: Q4_0 / Q4_K / Q6_K mat-vecs and the prefill mat-muls
 * at Llama-3.2-1B shapes, plain and relaxed SIMD, 1 and 2 threads) and prints GB/s and rows/s. Timing is
 * reported, never asserted (the machine is shared); what is asserted is that every configuration ran and that
 * they all computed the same outputs (the checksum of each kind/format/shape is identical across variants and
 * thread counts, the integer math being exact). Options: {@code -Dsimd.bench.iters=200} (steadier figures),
 * {@code -Dsimd.bench.formats=q4_0,q4_0w,q4_0x4,q8_0,q8_0w,q4_k,q4_kw,q6_k,q6_kw} (*w: the plain-SIMD wide path,
 * q4_0x4: the 4-row interleaved layout),
 * {@code -Dsimd.bench.ntok=16} (tokens per prefill mat-mul; 0 for none), {@code -Dsimd.bench.threads=1,2},
 * {@code -Dsimd.bench.variants=plain,relaxed}, {@code -Dsimd.bench.copies=24} (that many copies of each matrix,
 * used in turn, so the weights stream from main memory as in a real decode instead of staying in the cache). Mat-mul GB/s = weight bytes x tokens / time.
 */
class SimdBenchmarkPageTest {
    @Test
    @SuppressWarnings("unchecked")
    void benchmarkPageRunsEveryConfigurationAndReportsThroughput() throws Exception {
        int iters = Integer.getInteger("simd.bench.iters", 10);
        int ntok = Integer.getInteger("simd.bench.ntok", 16);
        String formats = System.getProperty("simd.bench.formats", "q4_0,q4_0w,q4_0x4,q4_k,q6_k");
        int nFormats = formats.split(",").length;
        String threads = System.getProperty("simd.bench.threads", "1,2");
        String variants = System.getProperty("simd.bench.variants", "plain,relaxed");
        int copies = Integer.getInteger("simd.bench.copies", 1);
        int configs = threads.split(",").length * variants.split(",").length;
        try (SimdHarness harness = SimdHarness.start()) {
            Map<String, Object> report = harness.openAndPoll(
                    "/simd-harness/bench.html?iters=" + iters + "&ntok=" + ntok + "&formats=" + formats + "&threads="
                    + threads
                            + "&variants=" + variants + "&copies=" + copies, "simdBenchDone",
                    Duration.ofMinutes(9));
            assertEquals(Boolean.TRUE, report.get("ok"), () -> "benchmark failed: " + report);
            assertEquals(Boolean.TRUE, report.get("crossOriginIsolated"), "bench page not cross-origin isolated");
            List<Map<String, Object>> results = (List<Map<String, Object>>) report.get("results");
            int expected = configs * nFormats * 3 * (ntok > 0 ? 2 : 1);
            assertEquals(expected, results.size(),
                    () -> "expected " + configs + " thread/variant configurations x " + nFormats
                    + " formats x 3 shapes x kinds: "
                            + results);
            Map<String, Double> checksums = new HashMap<>();
            StringBuilder table = new StringBuilder("WASM SIMD quantized mat-vec / prefill mat-mul (" + iters
                    + " iterations, median of 5; " + copies + " copies of each matrix; mat-mul: " + ntok
                    + " tokens per call; " + report.get("userAgent") + ", "
                    + report.get("hardwareConcurrency") + " hardware threads)\n");
            for (Map<String, Object> r : results) {
                double gbs = ((Number) r.get("gbPerS")).doubleValue();
                double rowsPerS = ((Number) r.get("rowsPerS")).doubleValue();
                double checksum = ((Number) r.get("checksum")).doubleValue();
                String shape = r.get("rows") + "x" + r.get("cols");
                String key = r.get("kind") + " " + r.get("format") + " " + shape;
                assertTrue(gbs > 0 && Double.isFinite(gbs) && rowsPerS > 0, () -> "bad figures " + r);
                assertTrue(Double.isFinite(checksum), () -> "non-finite output " + r);
                // the wide path and the x4 layout compute the same outputs as the byte path: one checksum for all
                Double prev = checksums.putIfAbsent(key.replaceAll("(q\\d_[0k])(w|x4) ", "$1 "), checksum);
                if (prev != null) assertEquals(prev, checksum, () -> "outputs differ between configurations: " + r);
                table.append(String.format("  %-6s %-5s %-11s threads=%s %-10s %8.3f ms %7.2f GB/s %10.0f rows/s%s%n",
                        r.get("kind"), r.get("format"), r.get("variant"), r.get("threads"), shape,
                        ((Number) r.get("msPerCall")).doubleValue(), gbs, rowsPerS,
                        r.containsKey("speedupVsMatvec") ? String.format("  (x%.2f vs mat-vec)",
                                ((Number) r.get("speedupVsMatvec")).doubleValue()) : ""));
            }
            System.out.print(table);
        }
    }
}
