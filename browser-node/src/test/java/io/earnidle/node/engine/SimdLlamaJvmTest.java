package io.earnidle.node.engine;

import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.synth.SynthFileType;
import io.earnidle.node.synth.SynthShape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Java orchestration of the SIMD engine, run over the JVM kernel emulation. */
class SimdLlamaJvmTest {
    @TempDir
    Path dir;

    static final int[] PROMPT = {1, 17, 42, 99, 5};

    static EngineGenerator.Outcome run(Engine e, int maxTokens, Sampling s) {
        EngineGenerator.Outcome[] box = new EngineGenerator.Outcome[1];
        EngineGenerator.generate(e, new GenerationRequest(null, PROMPT, false, maxTokens, s), true, o -> box[0] = o);
        assertNull(box[0].error(), box[0].error());
        return box[0];
    }

    static double maxAbs(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }

    @Test
    void f32MatchesTheJvmEngine() throws Exception {
        Path f = dir.resolve("f32.gguf");
        ModelSynthesizer.write(f, SynthShape.TINY, SynthFileType.named("f32"), 7, null);
        EngineGenerator.Outcome ref = run(new JvmEngine(LlamaModel.load(f), "jvm"), 12, Sampling.greedy());
        EngineGenerator.Outcome got = run(JavaSimdKernels.load(f, 8 << 20), 12, Sampling.greedy());
        assertTrue(maxAbs(ref.firstLogits(), got.firstLogits()) < 1e-4, "max abs " + maxAbs(ref.firstLogits(), got.firstLogits()));
        assertArrayEquals(ref.result().tokenIds(), got.result().tokenIds());
    }

    @Test
    void quantizedTypesStayCloseToTheExactComputation() throws Exception {
        for (String type : new String[] {"q8_0", "q4_0", "f16", "q4_1"}) {
            Path f = dir.resolve(type + ".gguf");
            ModelSynthesizer.write(f, SynthShape.TINY, SynthFileType.named(type), 7, null);
            EngineGenerator.Outcome ref = run(new JvmEngine(LlamaModel.load(f), "jvm"), 4, Sampling.greedy());
            EngineGenerator.Outcome got = run(JavaSimdKernels.load(f, 8 << 20), 4, Sampling.greedy());
            double d = maxAbs(ref.firstLogits(), got.firstLogits());
            // Q8 activations (as llama.cpp) move the logits by ~0.1 at most on these shapes; other types are exact f32
            assertTrue(d < (type.startsWith("q4_0") || type.startsWith("q8") ? 0.25 : 1e-4), type + " max abs " + d);
        }
    }
}
