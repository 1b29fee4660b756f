package io.earnidle.node.llama.ops;

/**
 * The numeric kernels of the forward pass, behind one interface so an implementation can be chosen at run time
 * (compare Jlama's {@code TensorOperations} providers): {@link JavaTensorOps} is the plain-Java reference that runs
 * on the JVM and, compiled by TeaVM, in the browser; WASM-SIMD and WebGPU implementations plug in here later.
 *
 * <p>Every implementation must give, per output element, the same float result as {@link JavaTensorOps}
 * (row-sequential accumulation of dequantized weight times input) if it claims bit-exactness; otherwise it documents
 * its tolerance.
 */
public interface TensorOps {
    /** A short name for reports ("java", "java-threads-4", "wasm-simd", "webgpu"). */
    String name();

    /** out[r] = sum_i w[r][i] * x[i] for r in [0, w.rows()); x.length >= w.cols(). */
    void matVec(WeightMatrix w, float[] x, float[] out);

    /** Dequantizes row {@code row} of {@code w} into out[outOff .. outOff + w.cols()). */
    void dequantizeRow(WeightMatrix w, int row, float[] out, int outOff);

    /** out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i]. */
    void rmsNorm(float[] out, float[] x, float[] weight, float eps);
}
