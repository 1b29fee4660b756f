package io.earnidle.node.llama;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tolerance of the llama.cpp agreement tests, derived per model from the arithmetic rather than measured on one
 * machine (docs/engine.md, "Tolerances derived from the arithmetic").
 * <p>
 * llama.cpp rounds every mat-vec input to the weight type's vec_dot_type (F16, BF16, Q8_0, Q8_1 or Q8_K) before the
 * dot products; the engine multiplies the exact activations. Which way each activation rounds depends on its last
 * bits, and those differ between llama.cpp's CPU variants (summation order, FMA or not, vectorized {@code expf} and
 * SiLU): a few float ulps before a rounding can move a value to the other neighbour, and that change propagates. So no
 * engine can reproduce every variant's roundings; what is fixed is their size. This class draws them: the engine's
 * forward pass with llama.cpp's rounding applied after a seeded perturbation of up to
 * {@link LlamaCppRounding#PERTURBATION_ULPS} ulps ({@link LlamaCppRounding#perturbed}), {@link #DRAWS} times. The
 * largest |logit - exact logit| over the draws is the model's rounding noise {@code N}; any variant's result is one
 * more draw of the same process, so it lies within {@code 2N} of the exact math (a margin of 2 over the maximum of 8
 * draws; the tests print the largest ratio seen, below 1 on every variant measured). For F32 weights nothing is
 * rounded and {@code N} is the float noise alone: how far a few ulps in every mat-vec input move the logits, which is
 * what another summation order or another {@code expf} does.
 */
public final class RoundingNoise {
    /** Perturbed draws per model. */
    public static final int DRAWS = 16;

    /** The margin over the largest of the {@link #DRAWS} draws. */
    public static final double MARGIN = 2;

    /**
     * @param exact the engine's first-step logits with exact activations (the JVM engine's own result)
     * @param noise the largest |logit - exact logit| over the draws
     */
    public record Noise(float[] exact, double noise) {
        /** Max |logit - llama.cpp logit| for an engine that multiplies the exact activations (JVM, WebGPU). */
        public double exactEngineTolerance() {
            return MARGIN * noise;
        }

        /**
         * Max |logit - llama.cpp logit| for an engine that rounds its activations as llama.cpp does (the wasm engine's
         * Q8 integer math): both sides are draws, each within {@code MARGIN * noise} of the exact math.
         */
        public double roundingEngineTolerance() {
            return 2 * MARGIN * noise;
        }

        /** How far {@code logits} are from the exact ones, in units of the noise (for the summaries). */
        public double inNoiseUnits(double maxAbsDiff) {
            return noise > 0 ? maxAbsDiff / noise : 0;
        }
    }

    private static final Map<Path, Noise> CACHE = new ConcurrentHashMap<>();

    private RoundingNoise() {
    }

    /** The rounding noise of the model at {@code model} on {@code prompt} (computed once per JVM and file). */
    public static Noise of(Path model, int[] prompt) {
        return CACHE.computeIfAbsent(model.toAbsolutePath(), p -> {
            try {
                float[] exact = firstLogits(LlamaModel.load(p), prompt);
                double noise = 0;
                for (int k = 1; k <= DRAWS; k++) {
                    float[] drawn = firstLogits(LlamaModel.load(p, LlamaCppRounding.perturbed(k)), prompt);
                    for (int i = 0; i < exact.length; i++) {
                        noise = Math.max(noise, Math.abs((double) drawn[i] - exact[i]));
                    }
                }
                return new Noise(exact, noise);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /** The logits after the prompt (the first generation step). */
    public static float[] firstLogits(LlamaModel m, int[] prompt) {
        float[][] first = new float[1][];
        m.generate(new GenerationRequest(null, prompt, false, 1, Sampling.greedy()), l -> {
            if (first[0] == null) {
                first[0] = l;
            }
        });
        return first[0];
    }
}
