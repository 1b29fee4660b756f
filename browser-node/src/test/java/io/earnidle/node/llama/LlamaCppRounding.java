package io.earnidle.node.llama;

import io.earnidle.node.gguf.GgmlType;
import io.earnidle.node.gguf.Half;
import io.earnidle.node.gguf.Quantizer;
import io.earnidle.node.llama.ops.JavaTensorOps;
import io.earnidle.node.llama.ops.TensorOps;
import io.earnidle.node.llama.ops.WeightMatrix;

/**
 * The forward pass's kernels with every mat-vec input first rounded as ggml's CPU backend rounds it to its
 * "vec_dot_type" before the dot products (ggml-cpu.c {@code type_traits_cpu}, the same in every CPU variant): F16
 * weights take an F16 copy of the activations, BF16 a BF16 copy, Q8_0 and Q4_0 a Q8_0 copy, Q4_1 a Q8_1 copy, Q4_K and
 * Q6_K a Q8_K copy; F32 none. llama.cpp's integer block dot products equal the float dot product of the dequantized
 * weights with the dequantized copy, so this reproduces llama.cpp's results up to float summation order - and up to
 * which way each activation rounds, which depends on its last bits: see {@link #perturbed}.
 */
public final class LlamaCppRounding implements TensorOps {
    /** How far {@link #perturbed} moves an activation before rounding it: up to this many float ulps either way. */
    public static final int PERTURBATION_ULPS = 16;

    private final JavaTensorOps base = new JavaTensorOps();
    private final SplitMix64 noise;

    private LlamaCppRounding(SplitMix64 noise) {
        this.noise = noise;
    }

    /** llama.cpp's activation rounding applied to the engine's own activations. */
    public static LlamaCppRounding exact() {
        return new LlamaCppRounding(null);
    }

    /**
     * llama.cpp's activation rounding applied to the engine's activations after each is moved by a seeded random
     * amount of up to {@link #PERTURBATION_ULPS} float ulps: what another summation order or another {@code expf}
     * leaves before the rounding (llama.cpp's CPU variants differ in exactly that). Each seed is one draw of where the
     * roundings fall; the spread of these draws around the exact math is the activation-rounding noise that bounds
     * how far any llama.cpp CPU variant can be from the engine (docs/engine.md, "Tolerances derived from the
     * arithmetic").
     */
    public static LlamaCppRounding perturbed(long seed) {
        return new LlamaCppRounding(new SplitMix64(seed));
    }

    @Override
    public String name() {
        return noise == null ? "java-llama-cpp-rounding" : "java-llama-cpp-rounding-perturbed";
    }

    @Override
    public void matVec(WeightMatrix w, float[] x, float[] out) {
        float[] in = x;
        if (noise != null) {
            in = new float[w.cols()];
            for (int i = 0; i < in.length; i++) {
                double ulps = (2 * noise.nextDouble() - 1) * PERTURBATION_ULPS;
                in[i] = (float) (x[i] + ulps * Math.ulp(x[i]));
            }
        }
        base.matVec(w, roundActivations(w.type(), in, w.cols()), out);
    }

    @Override
    public void dequantizeRow(WeightMatrix w, int row, float[] out, int outOff) {
        base.dequantizeRow(w, row, out, outOff);
    }

    @Override
    public void rmsNorm(float[] out, float[] x, float[] weight, float eps) {
        base.rmsNorm(out, x, weight, eps);
    }

    /** {@code x[0..n)} as ggml rounds it to the vec_dot_type of {@code weightType} (dequantized back to floats). */
    static float[] roundActivations(GgmlType weightType, float[] x, int n) {
        float[] y = new float[n];
        switch (weightType) {
            case F32 -> System.arraycopy(x, 0, y, 0, n);
            case F16 -> {
                // ggml_cpu_fp32_to_fp16: F16C's round-to-nearest-even, or the same rounding in software
                for (int i = 0; i < n; i++) {
                    y[i] = Half.toFloat(Half.fromFloat(x[i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    y[i] = Float.intBitsToFloat(Quantizer.bf16(x[i]) << 16);
                }
            }
            case Q8_0, Q4_0, Q4_1 -> {
                // quantize_row_q8_0 / q8_1: d = amax / 127 stored as F16, q = round-half-even(x * 127 / amax)
                for (int b = 0; b < n; b += 32) {
                    float amax = 0;
                    for (int j = 0; j < 32; j++) {
                        amax = Math.max(amax, Math.abs(x[b + j]));
                    }
                    float d = Half.toFloat(Half.fromFloat(amax / 127f));
                    float id = amax != 0 ? 127f / amax : 0f;
                    for (int j = 0; j < 32; j++) {
                        y[b + j] = d * (float) Math.rint(x[b + j] * id);
                    }
                }
            }
            case Q4_K, Q6_K -> {
                // quantize_row_q8_K: iscale = -127 / (the value of largest magnitude), q = min(127,
                // nearest(iscale * x)), d = 1 / iscale kept as F32
                for (int b = 0; b < n; b += 256) {
                    float max = 0;
                    float amax = 0;
                    for (int j = 0; j < 256; j++) {
                        float ax = Math.abs(x[b + j]);
                        if (ax > amax) {
                            amax = ax;
                            max = x[b + j];
                        }
                    }
                    if (amax == 0) {
                        continue;
                    }
                    float iscale = -127f / max;
                    float d = 1f / iscale;
                    for (int j = 0; j < 256; j++) {
                        y[b + j] = d * (float) Math.min(127, Math.rint(iscale * x[b + j]));
                    }
                }
            }
            default -> throw new IllegalArgumentException("no llama.cpp activation type for " + weightType);
        }
        return y;
    }
}
