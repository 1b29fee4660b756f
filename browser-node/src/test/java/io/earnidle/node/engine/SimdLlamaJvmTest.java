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

    @Test
    void kQuantsRunTheQ8KKernelsCloseToTheExactComputation() throws Exception {
        for (String type : new String[] {"q4_k_m", "q6_k"}) {
            Path f = dir.resolve(type + ".gguf");
            ModelSynthesizer.write(f, SynthShape.TINY_K, SynthFileType.named(type), 7, null);
            EngineGenerator.Outcome ref = run(new JvmEngine(LlamaModel.load(f), "jvm"), 4, Sampling.greedy());
            EngineGenerator.Outcome got = run(JavaSimdKernels.load(f, 8 << 20), 4, Sampling.greedy());
            double d = maxAbs(ref.firstLogits(), got.firstLogits());
            // Q8_K activations (as llama.cpp): close to, but not equal to, the exact f32 computation
            assertTrue(d > 0 && d < 0.25, type + " max abs " + d);
        }
    }

    /** Logits of the last prompt position and of 3 decode steps, the prompt fed in batches of the given sizes. */
    static float[][] prefillThenDecode(SimdLlama e, int[] prompt, int[] batches) {
        e.begin(prompt.length + 4);
        float[][] got = new float[4][];
        int pos = 0;
        for (int b : batches) {
            int n = Math.min(b, prompt.length - pos);
            boolean last = pos + n == prompt.length;
            int p = pos;
            e.prefill(java.util.Arrays.copyOfRange(prompt, pos, pos + n), n, pos, last ? Engine.OUT_LOGITS : Engine.OUT_NONE,
                    (argmax, logits, error) -> {
                        assertNull(error, error);
                        if (last) {
                            got[0] = logits;
                        } else {
                            assertEquals(-1, argmax, "no output before the last prompt position " + p);
                        }
                    });
            pos += n;
        }
        assertEquals(prompt.length, pos);
        for (int s = 1; s < 4; s++) {
            int step = s;
            e.step(7 * s + 3, pos++, Engine.OUT_LOGITS, (argmax, logits, error) -> got[step] = logits);
        }
        return got;
    }

    @Test
    void batchedPrefillIsBitIdenticalToTokenByTokenSteps() throws Exception {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(11);
        int[] prompt = new int[45];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = rnd.nextInt(300);
        }
        int[] single = new int[prompt.length];
        java.util.Arrays.fill(single, 1);
        int[][] splits = {{32, 13}, {3, 1, 7, 9, 25}, {2, 30, 2, 11}, {1, 44}};
        for (String type : new String[] {"q4_0", "q8_0", "f32", "f16", "q4_k_m", "q6_k"}) {
            Path f = dir.resolve("batch-" + type + ".gguf");
            ModelSynthesizer.write(f, type.contains("_k") ? SynthShape.TINY_K : SynthShape.TINY, SynthFileType.named(type),
                    5, null);
            SimdLlama e = JavaSimdKernels.load(f, 8 << 20);
            assertEquals(32, e.maxPrefillBatch());
            float[][] ref = prefillThenDecode(e, prompt, single);
            for (int[] split : splits) {
                float[][] got = prefillThenDecode(e, prompt, split);
                for (int s = 0; s < ref.length; s++) {
                    assertArrayEquals(ref[s], got[s], type + " split " + java.util.Arrays.toString(split) + " step " + s);
                }
            }
        }
    }

    @Test
    void q8KKernelsMatchTheDequantizedDotProduct() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
        int cols = 512;
        int rows = 3;
        JavaSimdKernels k = new JavaSimdKernels(1 << 20);
        float[] xv = new float[cols];
        for (int i = 0; i < cols; i++) {
            xv[i] = (float) rnd.nextDouble(-2, 2);
        }
        int x = k.alloc(4 * cols);
        k.writeFloats(x, xv, cols);
        int xq = k.alloc(cols / 256 * 292);
        k.quantizeQ8_K(x, xq, cols);
        // dequantized activations: qs * d per super-block; bsums are the sums of runs of 16
        float[] xd = new float[cols];
        for (int i = 0; i < cols; i++) {
            xd[i] = k.mem.get(xq + i) * k.mem.getFloat(xq + cols + 32 * (cols / 256) + 4 * (i / 256));
            assertTrue(Math.abs(xd[i] - xv[i]) <= 2.0 / 127 * 0.51 + 1e-6, "q8_k rounding at " + i);
        }
        for (int g = 0; g < cols / 16; g++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) {
                sum += k.mem.get(xq + 16 * g + i);
            }
            assertEquals(sum, k.mem.getShort(xq + cols + 2 * g));
        }
        for (io.earnidle.node.gguf.GgmlType t : new io.earnidle.node.gguf.GgmlType[] {
                io.earnidle.node.gguf.GgmlType.Q4_K, io.earnidle.node.gguf.GgmlType.Q6_K}) {
            int rowBytes = (int) t.byteSize(cols);
            int w = k.alloc(rows * rowBytes);
            for (int i = 0; i < rows * rowBytes; i++) {
                k.mem.put(w + i, (byte) rnd.nextInt(256));
            }
            int blockBytes = rowBytes / (cols / 256);
            int dOff = t == io.earnidle.node.gguf.GgmlType.Q4_K ? 0 : 208;
            for (int b = 0; b < rows * cols / 256; b++) { // finite, modest f16 scales (and Q4_K dmin)
                k.mem.putShort(w + b * blockBytes + dOff, io.earnidle.node.gguf.Half.fromFloat((float) rnd.nextDouble(0.001, 0.01)));
                if (dOff == 0) {
                    k.mem.putShort(w + b * blockBytes + 2, io.earnidle.node.gguf.Half.fromFloat((float) rnd.nextDouble(0.001, 0.01)));
                }
            }
            int out = k.alloc(4 * rows);
            if (t == io.earnidle.node.gguf.GgmlType.Q4_K) {
                k.matvecQ4_K(w, xq, out, rows, cols);
            } else {
                k.matvecQ6_K(w, xq, out, rows, cols);
            }
            int xdp = k.alloc(4 * cols);
            k.writeFloats(xdp, xd, cols);
            int ref = k.alloc(4 * rows);
            k.matvecDequant(t.id(), w, xdp, ref, rows, cols);
            float[] a = new float[rows];
            float[] e = new float[rows];
            k.readFloats(out, a, rows);
            k.readFloats(ref, e, rows);
            for (int r = 0; r < rows; r++) {
                assertEquals(e[r], a[r], 1e-4 * Math.max(1, Math.abs(e[r])), t + " row " + r);
            }
        }
    }
}
