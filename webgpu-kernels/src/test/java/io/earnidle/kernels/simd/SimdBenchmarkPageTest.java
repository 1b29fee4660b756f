package io.earnidle.kernels.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Drives the micro-benchmark page (simd-harness/bench.html: Q4_0 x Q8_0 mat-vec at Llama-3.2-1B shapes, plain
 * and relaxed SIMD, 1 and 2 threads) and prints its GB/s and rows/s. Timing is reported, never asserted; what
 * is asserted is that every configuration ran and that they all computed the same outputs (the checksum of
 * each shape is identical across variants and thread counts, the integer math being exact).
 * More iterations for steadier figures: {@code -Dsimd.bench.iters=200}.
 */
class SimdBenchmarkPageTest {
  @Test
  @SuppressWarnings("unchecked")
  void benchmarkPageRunsEveryConfigurationAndReportsThroughput() throws Exception {
    int iters = Integer.getInteger("simd.bench.iters", 10);
    try (SimdHarness harness = SimdHarness.start()) {
      Map<String, Object> report = harness.open("/simd-harness/bench.html?iters=" + iters, "simdBenchDone");
      assertEquals(Boolean.TRUE, report.get("ok"), () -> "benchmark failed: " + report);
      assertEquals(Boolean.TRUE, report.get("crossOriginIsolated"), "bench page not cross-origin isolated");
      List<Map<String, Object>> results = (List<Map<String, Object>>) report.get("results");
      assertEquals(12, results.size(), () -> "expected 2 thread counts x 2 variants x 3 shapes: " + results);
      Map<String, Double> checksums = new HashMap<>();
      StringBuilder table = new StringBuilder("WASM SIMD Q4_0 x Q8_0 mat-vec (" + iters + " iterations, median of 5; "
          + report.get("userAgent") + ", " + report.get("hardwareConcurrency") + " hardware threads)\n");
      for (Map<String, Object> r : results) {
        double gbs = ((Number) r.get("gbPerS")).doubleValue();
        double rowsPerS = ((Number) r.get("rowsPerS")).doubleValue();
        double checksum = ((Number) r.get("checksum")).doubleValue();
        String shape = r.get("rows") + "x" + r.get("cols");
        assertTrue(gbs > 0 && Double.isFinite(gbs) && rowsPerS > 0, () -> "bad figures " + r);
        assertTrue(Double.isFinite(checksum), () -> "non-finite output " + r);
        Double prev = checksums.putIfAbsent(shape, checksum);
        if (prev != null) assertEquals(prev, checksum, () -> "outputs differ between configurations: " + r);
        table.append(String.format("  %-11s threads=%s %-10s %8.3f ms %7.2f GB/s %10.0f rows/s%n",
            r.get("variant"), r.get("threads"), shape, ((Number) r.get("msPerCall")).doubleValue(), gbs, rowsPerS));
      }
      System.out.print(table);
    }
  }
}
