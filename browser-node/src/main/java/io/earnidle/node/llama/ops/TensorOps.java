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
 * <p>The backend's result verifier adds a JVM-only provider, {@code
 * io.earnidle.backend.verification.kernels.VectorTensorOps} (Java Vector API, batched {@link #matMul}), chosen when
 * the JVM has the {@code jdk.incubator.vector} module; it is never reachable from the node.
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

    /**
     * {@code n} mat-vecs at once (a batched forward pass): out[i * w.rows() + r] = sum_k w[r][k] * x[i * w.cols() + k]
     * for i in [0, n). The default runs {@link #matVec} per row of x, so it gives bit for bit what {@link #matVec}
     * gives; a batched kernel (the backend's Vector API GEMM) reads every weight once per call instead of once per
     * row of x, and documents its tolerance.
     */
    default void matMul(WeightMatrix w, float[] x, int n, float[] out) {
        int cols = w.cols();
        int rows = w.rows();
        float[] xi = n == 1 && x.length == cols ? x : new float[cols];
        float[] oi = n == 1 && out.length == rows ? out : new float[rows];
        for (int i = 0; i < n; i++) {
            if (xi != x) {
                System.arraycopy(x, i * cols, xi, 0, cols);
            }
            matVec(w, xi, oi);
            if (oi != out) {
                System.arraycopy(oi, 0, out, i * rows, rows);
            }
        }
    }

    /** sum_i a[ao + i] * b[bo + i] for i in [0, n), accumulated left to right in float (attention scores). */
    default float dot(float[] a, int ao, float[] b, int bo, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    /** y[yo + i] += a * x[xo + i] for i in [0, n) (attention's weighted sum of values). */
    default void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) {
            y[yo + i] += a * x[xo + i];
        }
    }

    /** gate[i] = silu(gate[i]) * up[i] for i in [0, n): the FFN's SwiGLU, silu(g) = g / (1 + e^-g). */
    default void swiGlu(float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[i];
            gate[i] = g / (1f + DetMath.expf(-g)) * up[i];
        }
    }

    /** Dequantizes row {@code row} of {@code w} into out[outOff .. outOff + w.cols()). */
    void dequantizeRow(WeightMatrix w, int row, float[] out, int outOff);

    /** out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i]. */
    void rmsNorm(float[] out, float[] x, float[] weight, float eps);
}
