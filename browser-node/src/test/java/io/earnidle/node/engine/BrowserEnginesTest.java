package io.earnidle.node.engine;

import io.earnidle.node.cli.BrowserInfer;
import io.earnidle.node.cli.EarnIdleCli;
import io.earnidle.node.engine.EngineReference.Reference;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.loop.Json;
import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.synth.SynthFileType;
import io.earnidle.node.synth.SynthShape;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.earnidle.node.engine.BrowserResults.floats;
import static io.earnidle.node.engine.BrowserResults.ints;
import static io.earnidle.node.engine.BrowserResults.maxAbs;
import static io.earnidle.node.engine.EngineReference.assertGreedyAgrees;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The wasm-SIMD and WebGPU engines in headless Chromium (the path of {@code earnidle infer --engine wasm|webgpu}) on
 * tiny synthesized models: first-step logits against the JVM (exact f32 paths: 1e-3 max-abs) or against the JVM
 * emulation of the Q8-activation kernels (Q4_0 / Q8_0 on Q8_0 and Q4_K / Q6_K on Q8_K activations on wasm: 1e-3), greedy ids equal to the JVM reference up to
 * the first step whose reference top-2 gap is below 0.02, and the WebGPU structural counters.
 */
public class BrowserEnginesTest {
    static final int[] PROMPT = {1, 17, 42, 99, 5};
    static final int MAX_TOKENS = 8;

    @TempDir
    static Path dir;

    @BeforeAll
    static void models() throws Exception {
        for (String t : new String[] {"f32", "f16", "q8_0", "q4_0", "q4_1"}) {
            ModelSynthesizer.write(dir.resolve(t + ".gguf"), SynthShape.TINY, SynthFileType.named(t), 11, null);
        }
        // tiny-k: rows fit K-quant super-blocks (Q4_K + Q6_K: the Q8_K integer kernels on wasm)
        ModelSynthesizer.write(dir.resolve("q4_k_m.gguf"), SynthShape.TINY_K, SynthFileType.named("q4_k_m"), 11, null);
        // Q4_0 at tiny-k widths (cols a multiple of 128): the relaxed build repacks it into the 4-row x4 layout
        ModelSynthesizer.write(dir.resolve("q4_0-x4.gguf"), SynthShape.TINY_K, SynthFileType.named("q4_0"), 12, null);
    }

    static Reference reference(Engine e) {
        return EngineReference.reference(e, new GenerationRequest(null, PROMPT, false, MAX_TOKENS, Sampling.greedy()));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> runInBrowser(Path model, String engine, int maxBinding) throws Exception {
        return runInBrowser(model, engine, maxBinding, "");
    }

    static Map<String, Object> runInBrowser(Path model, String engine, int maxBinding, String extra) throws Exception {
        String req = "{\"engine\":\"" + engine + "\",\"prompt_ids\":[1,17,42,99,5],\"max_tokens\":" + MAX_TOKENS
                + ",\"logits\":true" + (maxBinding > 0 ? ",\"max_binding_bytes\":" + maxBinding : "") + extra + "}";
        Map<String, Object> r = Json.obj(Json.parse(BrowserInfer.run(model, req, 240)), "result");
        assertEquals(null, r.get("error"), "browser error");
        return r;
    }

    @ParameterizedTest(name = "wasm plain vs relaxed {0}")
    @CsvSource({"q4_0", "q8_0", "q4_k_m", "q4_0-x4"})
    void plainSimdRunsTheWidePathBitIdenticalToRelaxed(String type) throws Exception {
        Path model = dir.resolve(type + ".gguf");
        Map<String, Object> relaxed = runInBrowser(model, "wasm", 0, ",\"simd_relaxed\":true");
        Map<String, Object> plain = runInBrowser(model, "wasm", 0, ",\"simd_relaxed\":false");
        assertTrue(((String) relaxed.get("engine")).startsWith("wasm-simd-relaxed"), String.valueOf(relaxed.get("engine")));
        assertEquals(type.equals("q4_0-x4"), ((String) relaxed.get("engine")).endsWith("+q4_0x4"),
            "x4 layout used exactly for the q4_0 model at tiny-k widths: " + relaxed.get("engine"));
        String pe = (String) plain.get("engine");
        assertTrue(pe.startsWith("wasm-simd") && !pe.contains("relaxed"), pe);
        // the wide plain-SIMD kernels (widenQ8_0/widenQ8_K + matvec*W) equal the relaxed byte kernels bit for bit, and
        // so do the relaxed build's 4-row interleaved Q4_0 kernels (q4_0-x4: every matrix and the embedding repacked)
        assertArrayEquals(floats(relaxed.get("logits")), floats(plain.get("logits")), 0f, type);
        assertArrayEquals(ints(relaxed.get("ids")), ints(plain.get("ids")), type);
        Reference ref = reference(JavaSimdKernels.load(model, 8 << 20));
        assertTrue(maxAbs(ref.first(), floats(plain.get("logits"))) <= 1e-3, type);
    }

    @ParameterizedTest(name = "wasm {0}")
    @CsvSource({"f32", "f16", "q4_1", "q8_0", "q4_k_m"})
    void wasmSimdEngineMatchesTheReference(String type) throws Exception {
        Path model = dir.resolve(type + ".gguf");
        Map<String, Object> r = runInBrowser(model, "wasm", 0);
        // Q4_0/Q8_0 (Q4_K/Q6_K) run the integer kernels on Q8_0 (Q8_K) activations (llama.cpp's numerics), other
        // types f32: the JVM emulation of the kernel API computes both the same way (and equals the JVM engine for
        // f32: SimdLlamaJvmTest)
        Reference ref = reference(JavaSimdKernels.load(model, 8 << 20));
        if (type.equals("f32")) {
            Reference jvm = reference(new JvmEngine(LlamaModel.load(model), "jvm"));
            double dj = maxAbs(jvm.first(), floats(r.get("logits")));
            assertTrue(dj <= 1e-3, "f32 vs the JVM engine: " + dj);
        }
        double d = maxAbs(ref.first(), floats(r.get("logits")));
        assertTrue(d <= 1e-3, type + ": max abs logit difference " + d);
        assertGreedyAgrees(ref, ints(r.get("ids")), type);
        assertTrue(((String) r.get("engine")).startsWith("wasm-simd"), String.valueOf(r.get("engine")));
        assertEquals(Boolean.TRUE, r.get("cross_origin_isolated"));
    }

    @ParameterizedTest(name = "webgpu {0} (LM head split {1} bytes)")
    @CsvSource({"f32, 0", "q8_0, 0", "q4_0, 4096"})
    @SuppressWarnings("unchecked")
    void webGpuEngineMatchesTheJvmAndMeetsTheCounters(String type, int split) throws Exception {
        Path model = dir.resolve(type + ".gguf");
        Map<String, Object> r = runInBrowser(model, "webgpu", split);
        assertEquals("webgpu", r.get("engine"));
        Reference ref = reference(new JvmEngine(LlamaModel.load(model), "jvm"));
        double d = maxAbs(ref.first(), floats(r.get("logits")));
        assertTrue(d <= 1e-3, type + ": max abs logit difference " + d);
        assertGreedyAgrees(ref, ints(r.get("ids")), type);
        Map<String, Object> c = (Map<String, Object>) r.get("counters");
        assertTrue((Double) c.get("dispatches_per_layer") <= 8, "dispatches per layer " + c);
        assertEquals(1.0, c.get("submits_per_token"), "submits per token " + c);
        assertEquals(4.0, c.get("bytes_read_back_per_token"), "bytes read back per greedy token " + c);
        assertEquals((double) MAX_TOKENS, c.get("tokens"));
        if (split > 0) {
            assertTrue((Double) c.get("lm_head_parts") >= 3, "LM head split into parts: " + c);
            assertTrue((Double) c.get("embed_parts") >= 3, "embedding split into parts: " + c);
        }
        // token 1 comes with the prefill's logits, token 2 from a plain step that starts the steps ahead; every later
        // step was already in flight, and max_tokens bounded them: none wasted
        assertEquals(2.0, c.get("steps_ahead"), c.toString());
        assertEquals((double) MAX_TOKENS - 2, c.get("steps_ahead_used"), c.toString());
        assertEquals(0.0, c.get("steps_ahead_dropped"), c.toString());
    }

    /**
     * Steps ahead (greedy steps submitted before they are asked for, each embedding the token id the GPU's argmax
     * left, one dispatch per row-split part) give the ids of plain steps. A run that ends on a stop string leaves two
     * steps in flight; the next run on the same engine (the node's next job) drops them, and its logits and ids are
     * those of a fresh engine, bit for bit.
     */
    @ParameterizedTest(name = "webgpu steps ahead {0} (split {1})")
    @CsvSource({"q4_0, 4096", "q4_k_m, 0"})
    @SuppressWarnings("unchecked")
    void webGpuStepsAheadChangeNoTokenAndLeaveNothingBehind(String type, int split) throws Exception {
        Path model = dir.resolve(type + ".gguf");
        Map<String, Object> plain = runInBrowser(model, "webgpu", split, ",\"steps_ahead\":0");
        Map<String, Object> ahead = runInBrowser(model, "webgpu", split, "");
        int[] ids = ints(plain.get("ids"));
        assertArrayEquals(ids, ints(ahead.get("ids")), type);
        Map<String, Object> pc = (Map<String, Object>) plain.get("counters");
        assertEquals(0.0, pc.get("steps_ahead_used"), pc.toString());
        assertEquals((double) MAX_TOKENS - 2, ((Map<String, Object>) ahead.get("counters")).get("steps_ahead_used"));

        var tok = new JvmEngine(LlamaModel.load(model), "jvm").tokenizer();
        String stop = tok.decode(java.util.Arrays.copyOf(ids, 3));
        assertTrue(!stop.isEmpty() && Sampling.greedy().withStop(List.of(stop)).firstStop(tok.decode(java.util.Arrays.copyOf(ids, 2))) < 0,
                "the first 3 tokens' text ends the run at token 3: '" + stop + "'");
        String stopJson = Json.write(List.of(stop));
        Map<String, Object> stopped = runInBrowser(model, "webgpu", split, ",\"runs\":2,\"stop\":" + stopJson);
        List<?> runs = (List<?>) stopped.get("runs_ids");
        assertEquals(2, runs.size());
        assertEquals(2, ((List<?>) stopped.get("runs_prefill_ms")).size(), stopped.toString());
        assertEquals(2, ((List<?>) stopped.get("runs_decode_ms")).size(), stopped.toString());
        for (Object run : runs) {
            assertArrayEquals(java.util.Arrays.copyOf(ids, 3), ints(run), "a run stopped at token 3");
        }
        Map<String, Object> c = (Map<String, Object>) stopped.get("counters");
        assertEquals(2.0, c.get("steps_ahead_used"), "token 3 of each run was in flight: " + c);
        assertEquals(2.0, c.get("steps_ahead_dropped"), "run 1's two steps ahead, dropped by run 2's prefill: " + c);
        assertArrayEquals(floats(plain.get("logits")), floats(stopped.get("logits")), 0f,
                "run 2's prefill logits after run 1's dropped steps");
    }

    @Test
    @SuppressWarnings("unchecked")
    void cliInferRunsTheWasmEngineAndWritesLogits() throws Exception {
        Path model = dir.resolve("q4_0.gguf");
        Path logits = dir.resolve("logits-q4_0.json");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = EarnIdleCli.run(new String[] {"infer", "--model", model.toString(), "--prompt-ids", "1,17,42,99,5",
                        "--max-tokens", String.valueOf(MAX_TOKENS), "--engine", "wasm", "--logits-out", logits.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        Map<String, Object> o = Json.obj(Json.parse(out.toString(StandardCharsets.UTF_8).trim()), "output");
        assertTrue(((String) o.get("engine")).startsWith("wasm-simd"));
        assertEquals(model.toString(), o.get("model"));
        for (String k : new String[] {"prompt_ids", "ids", "text", "prefill_ms", "decode_ms", "decode_tokens_per_s",
                "counters"}) {
            assertTrue(o.containsKey(k), "missing " + k + " in " + o);
        }
        Reference ref = reference(JavaSimdKernels.load(model, 8 << 20));
        float[] l = floats(Json.parse(Files.readString(logits)));
        assertTrue(maxAbs(ref.first(), l) <= 1e-3, "q4_0 logits: " + maxAbs(ref.first(), l));
        assertGreedyAgrees(ref, ints(o.get("ids")), "q4_0 cli");
    }
}
