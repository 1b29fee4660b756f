package io.earnidle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bench report generator (e2e/bench/report.mjs) on a fixture results file: medians over the successful runs,
 * target ratios against wllama / native / file size, failed engines shown as failed (never as numbers), and PNG
 * charts rendered by headless Chromium. The bench itself (minutes, needs a quiet machine) is not run here.
 */
class BenchReportTest {
    @TempDir
    Path tmp;

    static Path repoRoot() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("e2e/bench/report.mjs"))) {
                return p;
            }
        }
        throw new IllegalStateException("e2e/bench/report.mjs not found above " + dir);
    }

    @Test
    void reportFromFixture() throws Exception {
        Path root = repoRoot();
        Path md = tmp.resolve("docs/benchmarks.md");
        Path img = tmp.resolve("docs/img");
        // an earlier page: its generated part is replaced, its hand-written last section (e2e figures) kept
        String kept = "## Through the network: the full-size 1B in the widget\n\nfigures of an e2e run\n";
        Files.createDirectories(md.getParent());
        Files.writeString(md, "# Inference benchmarks\n\nold generated text\n\n" + kept);
        Process p = new ProcessBuilder("node", "e2e/bench/report.mjs",
                "--results", "e2e/bench/test/fixtures/results-fixture.json",
                "--md", md.toString(), "--img-dir", img.toString())
                .directory(root.toFile()).redirectErrorStream(true).start();
        String output;
        try (var in = p.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "report.mjs did not finish");
        assertEquals(0, p.exitValue(), output);

        List<String> lines = Files.readAllLines(md, StandardCharsets.UTF_8);
        // medians over 3 runs: decode 2.0/3.0/2.5 -> 2.50, prefill 4.0/5.0/4.5 -> 4.50, memory 110/130/125 MiB -> 125,
        // on a 100 MiB file -> 1.25x; largest process (memory - 10 in the fixture) -> 115
        assertLine(lines, "| q4_0 | Earn Idle WASM SIMD | 1 | 950 | 28444 | 4.50 | 2.50 | 125 | 1.25 | 115 | 3/3 |");
        // one failed run of three: the median is over the two successful ones ((4 + 5) / 2, (16000 + 14222) / 2)
        assertLine(lines, "| q4_0 | Earn Idle WASM SIMD | 2 | 810 | 15111 | 8.50 | 4.50 | 106 | 1.06 | 96 | 2/3 |");
        // an engine that never ran is shown as failed with its error, not as a number
        assertLine(lines, "| q4_k_m | Earn Idle WASM SIMD | 1 | **failed** | | | | | | | 0/3 |");
        assertLine(lines, "| q4_0 | Earn Idle WebGPU ¹ | — | **failed** | | | | | | | 0/3 |");
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("- q4_k_m wasm-1t: ") && l.contains("engine not available")));
        // targets: the median of the per-round ratios, then the ratio of the medians. Decode vs wllama at 1 thread:
        // rounds 2/1, 3/2, 2.5/3 -> 1.5, medians 2.5/2.0 = 1.25; prefill 4/2, 5/4, 4.5/6 -> 1.25, medians 4.5/4.0;
        // vs native 2/4, 3/5, 2.5/6 -> 0.5; memory 1.25 > 1.2 (no pairing)
        assertLine(lines, "| q4_0 | 1 | decode tok/s ≥ 1.25× wllama | 1.50× | 1.25× | met |");
        assertLine(lines, "| q4_0 | 1 | prefill tok/s ≥ 1.0× wllama | 1.25× | 1.13× | met |");
        assertLine(lines, "| q4_0 | 1 | decode tok/s ≥ 0.7× native llama.cpp | 0.50× | 0.50× | **missed** |");
        assertLine(lines, "| q4_0 | 1 | peak browser memory ≤ 1.2× GGUF file size | 1.25× | — | **missed** |");
        // wasm-2t failed in round 1: pairs from rounds 0 and 2 (4/2, 5/2 and 8/10, 9/10)
        assertLine(lines, "| q4_0 | 2 | decode tok/s ≥ 1.25× wllama | 2.25× | 2.25× | met |");
        assertLine(lines, "| q4_0 | 2 | prefill tok/s ≥ 1.0× wllama | 0.85× | 0.85× | **missed** |");
        assertLine(lines, "| q4_k_m | 1 | decode tok/s ≥ 1.25× wllama | — | — | not measured (our engine not measured) |");
        // reference ratios native / wllama: 12.0 / 0.8 decode, 30.0 / 1.0 prefill
        assertLine(lines, "| q4_k_m | 1 | 15.0× | 30.0× |");
        String text = String.join("\n", lines);
        assertTrue(text.endsWith("\n\n" + kept.trim()) && !text.contains("old generated text"),
                "the hand-written section is kept at the end, the rest regenerated");
        assertTrue(text.contains("Command: `./earnidle bench`"), "the command is stated");
        assertTrue(text.contains("Fixture CPU @ 2.0GHz, 2 cores"), "the machine is stated");
        assertTrue(text.contains("wllama 3.8.1 (libllama b11364-46ca246), node-llama-cpp 3.22.1"), "versions stated");
        assertTrue(text.contains("![decode tokens per second](img/bench-decode.png)"));
        assertFalse(text.contains("Quick smoke run"), "a full run is not labelled quick");

        Path decode = img.resolve("bench-decode.png");
        Path prefill = img.resolve("bench-prefill.png");
        BufferedImage d = ImageIO.read(decode.toFile());
        BufferedImage f = ImageIO.read(prefill.toFile());
        assertEquals(1100, d.getWidth());
        assertEquals(520, d.getHeight());
        assertEquals(1100, f.getWidth());
        // bars in the series colours (Q4_0 blue, Q4_K_M orange) are drawn
        assertTrue(countColour(d, 0x3b6fd4) > 2000, "Q4_0 bars in the decode chart");
        assertTrue(countColour(d, 0xe08a2c) > 2000, "Q4_K_M bars in the decode chart");
        assertTrue(countColour(f, 0x3b6fd4) > 2000, "Q4_0 bars in the prefill chart");
        assertFalse(Arrays.equals(Files.readAllBytes(decode), Files.readAllBytes(prefill)), "two different charts");
    }

    /** The harness's own unit tests (e2e/bench/test: medians, paired ratios, round order, ...), under node --test. */
    @Test
    void harnessUnitTests() throws Exception {
        Process p = new ProcessBuilder("node", "--test", "e2e/bench/test/")
                .directory(repoRoot().toFile()).redirectErrorStream(true).start();
        String output;
        try (var in = p.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "node --test did not finish");
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.contains("# fail 0") && !output.contains("# pass 0"), output);
    }

    private static void assertLine(List<String> lines, String expected) {
        assertTrue(lines.contains(expected), () -> "missing line:\n" + expected + "\nin:\n" + String.join("\n", lines));
    }

    private static int countColour(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int c = img.getRGB(x, y) & 0xffffff;
                if (Math.abs((c >> 16) - (rgb >> 16)) <= 3 && Math.abs(((c >> 8) & 255) - ((rgb >> 8) & 255)) <= 3
                        && Math.abs((c & 255) - (rgb & 255)) <= 3) {
                    n++;
                }
            }
        }
        return n;
    }
}
