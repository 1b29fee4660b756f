package io.earnidle.node.engine;

import io.earnidle.node.cli.BrowserInfer;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.loop.Json;
import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.synth.SynthFileType;
import io.earnidle.node.synth.SynthShape;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The WebGPU engine's batched prefill (tiled mat-muls, batched RoPE + KV append, causal attention, one submit per
 * batch) in headless Chromium on tiny models with a 45-token prompt: the last prompt position's logits against the
 * JVM engine (token by token, exact f32 math) and greedy ids, and the prefill counters.
 */
public class WebGpuPrefillTest {
    static final int PROMPT_LEN = 45;

    @TempDir
    static Path dir;

    @BeforeAll
    static void models() throws Exception {
        for (String t : new String[] {"f32", "q4_0"}) {
            ModelSynthesizer.write(dir.resolve(t + ".gguf"), SynthShape.TINY, SynthFileType.named(t), 23, null);
        }
        ModelSynthesizer.write(dir.resolve("q4_k_m.gguf"), SynthShape.TINY_K, SynthFileType.named("q4_k_m"), 23, null);
    }

    static int[] prompt() {
        SplittableRandom r = new SplittableRandom(7);
        int[] p = new int[PROMPT_LEN];
        for (int i = 0; i < p.length; i++) {
            p[i] = 1 + r.nextInt(300);
        }
        return p;
    }

    /**
     * F32: batched logits within 1e-4 of the JVM engine's token-by-token logits (measured ~1e-6; other summation orders
     * only). Quantized types: the GPU dequantizes to f32 and multiplies exact f32 activations like the JVM engine, so
     * the same 1e-4 bound holds (logits are O(1)).
     */
    @ParameterizedTest(name = "webgpu batched prefill {0} (split {1})")
    @CsvSource({"f32, 0", "q4_0, 4096", "q4_k_m, 0"})
    @SuppressWarnings("unchecked")
    void batchedPrefillMatchesTheJvmTokenByToken(String type, int split) throws Exception {
        Path model = dir.resolve(type + ".gguf");
        int[] p = prompt();
        String ids = Arrays.stream(p).mapToObj(String::valueOf).collect(Collectors.joining(","));
        String req = "{\"engine\":\"webgpu\",\"prompt_ids\":[" + ids + "],\"max_tokens\":6,\"logits\":true"
                + (split > 0 ? ",\"max_binding_bytes\":" + split : "") + "}";
        Map<String, Object> r = Json.obj(Json.parse(BrowserInfer.run(model, req, 240)), "result");
        assertEquals(null, r.get("error"), "browser error");
        EngineReference.Reference ref = EngineReference.reference(new JvmEngine(LlamaModel.load(model), "jvm"),
                new GenerationRequest(null, p, false, 6, Sampling.greedy()));
        double d = BrowserResults.maxAbs(ref.first(), BrowserResults.floats(r.get("logits")));
        System.out.printf("webgpu batched prefill %s: max |logit - jvm| %.2e, counters %s%n", type, d, r.get("counters"));
        assertTrue(d <= 1e-4, type + ": max abs logit difference " + d);
        EngineReference.assertGreedyAgrees(ref, BrowserResults.ints(r.get("ids")), type);
        Map<String, Object> c = (Map<String, Object>) r.get("counters");
        double batches = (Double) c.get("prefill_batches");
        assertEquals((double) PROMPT_LEN, c.get("prefill_tokens"), "every prompt token went through prefill: " + c);
        assertTrue(batches < PROMPT_LEN, "prompt tokens were batched: " + c);
        assertEquals(7.0, c.get("prefill_dispatches_per_layer"), c.toString());
        assertEquals(1.0, c.get("prefill_submits_per_batch"), c.toString());
        assertEquals(4.0, c.get("bytes_read_back_per_token"), c.toString());
    }
}
