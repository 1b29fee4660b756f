package io.earnidle.node.llama.ops;

import io.earnidle.node.gguf.Dequant;
import io.earnidle.node.gguf.GgmlType;

import java.nio.ByteBuffer;

/**
 * Single-threaded plain-Java reference kernels, usable on the JVM and in TeaVM's WebAssembly. A mat-vec dequantizes
 * one row at a time into a scratch row (one block at a time would do; one row keeps a single code path per type)
 * and accumulates {@code s += w[i] * x[i]} left to right in float, so a quantized matrix gives bit-for-bit the
 * same result as the same matrix stored dequantized as F32. F32 rows are read directly.
 */
public class JavaTensorOps implements TensorOps {
    private float[] scratch = new float[0];

    @Override
    public String name() {
        return "java";
    }

    @Override
    public void matVec(WeightMatrix w, float[] x, float[] out) {
        if (scratch.length < w.cols()) {
            scratch = new float[w.cols()];
        }
        matVecRows(w, x, out, 0, w.rows(), scratch);
    }

    /** Rows [from, to) of a mat-vec; {@code row} is scratch of at least w.cols() floats. Thread-safe for disjoint rows. */
    public static void matVecRows(WeightMatrix w, float[] x, float[] out, int from, int to, float[] row) {
        int n = w.cols();
        ByteBuffer d = w.data();
        if (w.type() == GgmlType.F32) {
            for (int r = from; r < to; r++) {
                int p = w.rowOffset(r);
                float s = 0f;
                for (int i = 0; i < n; i++) {
                    s += d.getFloat(p + 4 * i) * x[i];
                }
                out[r] = s;
            }
            return;
        }
        for (int r = from; r < to; r++) {
            Dequant.dequantize(d, w.rowOffset(r), w.type(), n, row, 0);
            float s = 0f;
            for (int i = 0; i < n; i++) {
                s += row[i] * x[i];
            }
            out[r] = s;
        }
    }

    @Override
    public void dequantizeRow(WeightMatrix w, int row, float[] out, int outOff) {
        if (row < 0 || row >= w.rows()) {
            throw new IllegalArgumentException("row " + row + " outside " + w.name() + " of " + w.rows() + " rows");
        }
        Dequant.dequantize(w.data(), w.rowOffset(row), w.type(), w.cols(), out, outOff);
    }

    @Override
    public void rmsNorm(float[] out, float[] x, float[] w, float eps) {
        double sum = 0.0;
        for (float v : x) {
            sum += (double) (v * v);
        }
        float mean = (float) (sum / x.length);
        float scale = (float) (1.0 / Math.sqrt((double) (mean + eps)));
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * scale * w[i];
        }
    }
}
