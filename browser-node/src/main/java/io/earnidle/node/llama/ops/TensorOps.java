package io.earnidle.node.llama.ops;

/**
 * The numeric kernels of {@link io.earnidle.node.llama.LlamaModel}'s forward pass: {@link JavaTensorOps}, the
 * plain-Java reference that runs on the JVM and, compiled by TeaVM, in the browser, and
 * {@code io.earnidle.node.cli.ThreadedTensorOps} (its rows split over threads, bit for bit the same).
 *
 * <p>The compute provider is chosen at run time, per device, in the manner of Jlama's {@code TensorOperations}
 * providers, but one level up: at the {@link io.earnidle.node.engine.Engine} ({@code EngineChoice} and
 * {@code BrowserEngines}). The JVM engine runs this interface; the WASM-SIMD engine
 * ({@link io.earnidle.node.engine.SimdLlama}) runs the same graph over the kernels of {@code simd-kernels.wat}, and
 * the WebGPU engine runs it as WGSL compute passes in {@code webgpu-engine.js}. The JVM and WASM-SIMD engines load
 * the weights and RoPE tables through {@link io.earnidle.node.llama.LlamaWeights} (WebGPU uploads the file's tensors
 * and computes RoPE on the device); all three share one generation loop
 * ({@link io.earnidle.node.llama.Generation}).
 *
 * <p>Every implementation must give, per output element, the same float result as {@link JavaTensorOps}
 * (row-sequential accumulation of dequantized weight times input) if it claims bit-exactness; otherwise it documents
 * its tolerance.
 */
public interface TensorOps {
    /** A short name for reports ("java", "java-threads-4"). */
    String name();

    /** out[r] = sum_i w[r][i] * x[i] for r in [0, w.rows()); x.length >= w.cols(). */
    void matVec(WeightMatrix w, float[] x, float[] out);

    /** Dequantizes row {@code row} of {@code w} into out[outOff .. outOff + w.cols()). */
    void dequantizeRow(WeightMatrix w, int row, float[] out, int outOff);

    /** out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i]. */
    void rmsNorm(float[] out, float[] x, float[] weight, float eps);
}
