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
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sampling on the WebGPU engine (Engine.OUT_SAMPLE, sample.wgsl) in headless Chromium: the drawn ids equal the JVM
 * engine's, which samples the same seeded uniform numbers with {@link io.earnidle.node.llama.Sampler} on the CPU.
 * The GPU chain runs in f32 against the Sampler's double, so a draw could differ only when u·total falls within ~1e-6
 * of a cumulative boundary (probability ~1e-6 per token; the seeds are fixed) — the kernel test
 * (LlamaKernelsTest.sampleMatchesTheSamplerChain) measures the boundary cases. Every token is drawn on the device with
 * 4 bytes read back (the tiny vocabulary of 311 always fits the kernel's 1024 candidates: no fallback). A 4096-token
 * vocabulary exercises the fallback (all tokens kept: the logits come back and Java draws with the same u) and the
 * on-device draws whose kept set still fits the candidates (min-p cut; top-k 2000 with a top-p nucleus).
 */
public class WebGpuSamplingTest {
    static final int[] PROMPT = {1, 17, 42, 99, 5, 230, 17, 64};
    static final int MAX_TOKENS = 12;

    @TempDir
    static Path dir;

    @BeforeAll
    static void models() throws Exception {
        ModelSynthesizer.write(dir.resolve("f32.gguf"), SynthShape.TINY, SynthFileType.named("f32"), 31, null);
        ModelSynthesizer.write(dir.resolve("q4_k_m.gguf"), SynthShape.TINY_K, SynthFileType.named("q4_k_m"), 31, null);
        // a vocabulary wider than the kernel's 1024 candidates (filler tokens after the synthetic ones)
        ModelSynthesizer.write(dir.resolve("v4096.gguf"), new SynthShape("tiny-v4096", 64, 192, 2, 4, 2, 4096, 256,
                500000f, false, false), SynthFileType.named("q8_0"), 31, null);
    }

    @ParameterizedTest(name = "webgpu sampling {0}: T={1} top_k={2} top_p={3} min_p={4} penalty={5} seed={6}")
    @CsvSource({
        "f32, 0.8, 40, 0.9, 0, 1.1, 5",
        "f32, 1.0, 0, 1, 0.05, 1, 9",
        "f32, 0, 0, 1, 0, 1.3, 1",
        "f32, 1.3, 0, 0.95, 0, 1.2, 3",
        "q4_k_m, 0.9, 0, 0.9, 0.02, 1.15, 12",
        "v4096, 0.7, 0, 1, 0.3, 1.1, 4",
        "v4096, 1.0, 2000, 0.2, 0, 1, 8",
        "v4096, 1.0, 0, 1, 0, 1, 6",
    })
    @SuppressWarnings("unchecked")
    void gpuDrawsEqualTheSampler(String type, float temp, int topK, float topP, float minP, float penalty, long seed)
            throws Exception {
        Path model = dir.resolve(type + ".gguf");
        Sampling s = new Sampling(temp, topK, topP, seed, minP, penalty, Sampling.DEFAULT_REPEAT_LAST_N, List.of());
        String req = "{\"engine\":\"webgpu\",\"prompt_ids\":" + Arrays.toString(PROMPT) + ",\"max_tokens\":" + MAX_TOKENS
                + ",\"temperature\":" + temp + ",\"top_k\":" + topK + ",\"top_p\":" + topP + ",\"min_p\":" + minP
                + ",\"repeat_penalty\":" + penalty + ",\"seed\":" + seed + "}";
        Map<String, Object> r = Json.obj(Json.parse(BrowserInfer.run(model, req, 240)), "result");
        assertEquals(null, r.get("error"), "browser error");
        EngineGenerator.Outcome[] box = new EngineGenerator.Outcome[1];
        EngineGenerator.generate(new JvmEngine(LlamaModel.load(model), "jvm"),
                new GenerationRequest(null, PROMPT, false, MAX_TOKENS, s), false, o -> box[0] = o);
        int[] ref = box[0].result().tokenIds();
        int[] got = BrowserResults.ints(r.get("ids"));
        Map<String, Object> c = (Map<String, Object>) r.get("counters");
        System.out.printf("webgpu sampling %s T=%s: ids %s (jvm %s), counters %s%n", type, temp, Arrays.toString(got),
                Arrays.toString(ref), c);
        assertArrayEquals(ref, got, "drawn ids vs the JVM engine + Sampler");
        double onDevice = (Double) c.get("sampled_on_device");
        double fallbacks = (Double) c.get("sample_fallbacks");
        assertEquals((double) got.length, onDevice + fallbacks, c.toString());
        // the sampler's pipeline, like every other, was made when the engine was initialised
        assertEquals(0.0, c.get("pipelines_created_late"), c.toString());
        int vocab = LlamaModel.load(model).config().vocabSize();
        if (vocab <= 1024) {
            assertEquals((double) got.length, onDevice, "every token drawn on the GPU: " + c);
            assertEquals(4.0, c.get("bytes_read_back_per_token"), "bytes read back per sampled token: " + c);
            assertEquals(1.0, c.get("submits_per_token"), c.toString());
        } else if (topK == 0 && topP == 1 && minP == 0) { // all 4096 tokens kept: the CPU draws from the logits
            assertEquals((double) got.length, fallbacks, c.toString());
            assertEquals(4.0 + 4 * vocab, c.get("bytes_read_back_per_token"), c.toString());
            assertEquals(2.0, c.get("submits_per_token"), "the draw's submit, then the logits' read-back: " + c);
        } else { // a min-p cut or a top-p nucleus inside the 1024 candidates
            assertTrue(onDevice >= 1, "some tokens drawn on the GPU: " + c);
        }
    }
}
