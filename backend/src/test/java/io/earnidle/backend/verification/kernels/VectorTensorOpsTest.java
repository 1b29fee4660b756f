package io.earnidle.backend.verification.kernels;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.ops.JavaTensorOps;
import io.earnidle.node.llama.ops.TensorOps;
import io.earnidle.node.llama.ops.WeightMatrix;
import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.synth.SynthFileType;
import io.earnidle.node.synth.SynthShape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Vector API kernels against the scalar reference on the synthetic models: the logits of a batched pass agree
 * within the float noise of the model, derived as docs/engine.md derives its tolerances ("Tolerances derived from
 * the arithmetic") for an engine that multiplies the exact activations: {@value #DRAWS} draws of the scalar pass with
 * every mat-vec input moved by a seeded amount of up to {@value #ULPS} float ulps (what another summation order
 * does), the noise N the largest |logit - exact logit| over the draws, the tolerance 2N.
 */
class VectorTensorOpsTest {
    private static final int DRAWS = 16;
    private static final int ULPS = 16;
    /** Rows of 256 and 512 values, as the llama.cpp agreement test's models. */
    private static final SynthShape SHAPE = new SynthShape("test-256", 256, 512, 2, 4, 2, 0, 64, 500000f, true, false);

    /** The scalar reference with every mat-vec input moved by up to {@link #ULPS} ulps (one seeded draw). */
    private static TensorOps perturbed(long seed) {
        SplittableRandom noise = new SplittableRandom(seed);
        return new JavaTensorOps() {
            @Override
            public void matVec(WeightMatrix w, float[] x, float[] out) {
                float[] in = new float[w.cols()];
                for (int i = 0; i < in.length; i++) {
                    in[i] = (float) (x[i] + (2 * noise.nextDouble() - 1) * ULPS * Math.ulp(x[i]));
                }
                super.matVec(w, in, out);
            }
        };
    }

    /** Logits of every position after the first of a batched pass over {@code ids}. */
    private static float[] logits(ByteBuffer gguf, TensorOps ops, int[] ids) {
        LlamaModel m = LlamaModel.load(gguf, ops);
        float[] out = new float[(ids.length - 1) * m.vocabSize()];
        m.forward(m.new State(ids.length), ids, ids.length, 0, 1, out);
        return out;
    }

    private static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs((double) a[i] - b[i]));
        }
        return d;
    }

    private static void agreeWithinFloatNoise(byte[] gguf, String what) {
        int vocab = LlamaModel.load(ByteBuffer.wrap(gguf)).vocabSize();
        int[] ids = new SplittableRandom(7).ints(23, 0, vocab).toArray();
        float[] exact = logits(ByteBuffer.wrap(gguf), new JavaTensorOps(), ids);
        double noise = 0;
        for (int k = 1; k <= DRAWS; k++) {
            noise = Math.max(noise, maxDiff(exact, logits(ByteBuffer.wrap(gguf), perturbed(k), ids)));
        }
        float[] vector = logits(ByteBuffer.wrap(gguf), new VectorTensorOps(), ids);
        double diff = maxDiff(exact, vector);
        System.out.printf("%s: vector vs scalar max |logit diff| %.3g, float noise N %.3g (%.2f N)%n", what, diff,
                noise, diff / noise);
        assertTrue(noise > 0, what + ": the perturbed draws must move the logits");
        assertTrue(diff <= 2 * noise, what + ": vector vs scalar " + diff + " > 2N = " + 2 * noise);
    }

    @Test
    void tinyF32ModelAgrees() {
        agreeWithinFloatNoise(ModelSynthesizer.tinyBytes(1L), "tiny f32");
    }

    @ParameterizedTest
    @EnumSource(value = SynthFileType.class, names = {"F32", "Q8_0", "Q4_0", "Q4_K_M"})
    void quantizedModelAgrees(SynthFileType type, @TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.gguf");
        ModelSynthesizer.write(file, SHAPE, type, 5, null);
        agreeWithinFloatNoise(Files.readAllBytes(file), type.name());
    }

    /** The dequantized panels are the scalar ones bit for bit: a batch of unit vectors reads the weights back. */
    @ParameterizedTest
    @EnumSource(value = SynthFileType.class, names = {"F32", "Q8_0", "Q4_0"})
    void unitVectorsReadTheScalarWeights(SynthFileType type, @TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.gguf");
        ModelSynthesizer.write(file, SHAPE, type, 5, null);
        io.earnidle.node.gguf.GgufFile f = io.earnidle.node.gguf.GgufFile.read(Files.readAllBytes(file));
        WeightMatrix w = WeightMatrix.of(f.tensor("blk.0.ffn_down.weight"), f);
        int k = w.cols();
        int n = 11;
        float[] x = new float[n * k];
        for (int i = 0; i < n; i++) {
            x[i * k + (i * 37) % k] = 1f;
        }
        float[] out = new float[n * w.rows()];
        new VectorTensorOps().matMul(w, x, n, out);
        float[] row = new float[k];
        for (int r = 0; r < w.rows(); r++) {
            new JavaTensorOps().dequantizeRow(w, r, row, 0);
            for (int i = 0; i < n; i++) {
                // + 0f: a dot product's zero has no sign
                assertEquals(row[(i * 37) % k] + 0f, out[i * w.rows() + r] + 0f, "row " + r + ", column "
                        + (i * 37) % k);
            }
        }
    }

    @Test
    void chosenWhenTheVectorApiIsPresent() {
        assertTrue(VerifierKernels.vectorApiPresent(), "the backend's tests run with --add-modules jdk.incubator.vector");
        assertInstanceOf(VectorTensorOps.class, VerifierKernels.best());
    }
}
