package io.earnidle.backend.verification.kernels;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import io.earnidle.node.gguf.GgmlType;
import io.earnidle.node.gguf.Half;
import io.earnidle.node.llama.ops.JavaTensorOps;
import io.earnidle.node.llama.ops.WeightMatrix;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The verifier's kernels on the Java Vector API (JVM only: {@code --add-modules jdk.incubator.vector}; chosen by
 * {@link VerifierKernels}). A batched {@link #matMul} dequantizes a panel of weight rows once (Q4_0 and Q8_0 with
 * vector code, F32 copied, other types through the scalar {@code Dequant}) and multiplies it with every row of the
 * batch in a register-tiled micro-kernel: {@value #MR} weight rows × 16 positions (two AVX2 vectors),
 * each of the 12 dot products accumulated in SIMD lanes along k (fused multiply-add), reduced at the end.
 *
 * <p>Numerics: the dequantized weights are bit for bit the scalar ones and the activations are the exact floats
 * (no rounding of activations as llama.cpp does), only the summation order differs from {@link JavaTensorOps}
 * (lanes, then a lane reduction, and FMA instead of a separate multiply and add). That is float rounding noise,
 * far inside the derived tolerances of docs/engine.md, which cover a few ulps in every mat-vec input.
 */
public final class VectorTensorOps extends JavaTensorOps {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final int L = F.length();
    /** Weight rows per micro-kernel tile. */
    static final int MR = 6;
    /** Positions per micro-kernel tile: two vectors. */
    static final int NR = 2 * L;
    /** Weight rows per dequantized panel (a multiple of MR). */
    private static final int RB = 8 * MR;
    /** Batches smaller than this multiply row by row (vector dot products) instead of through the tiles. */
    private static final int SMALL_BATCH = 4;
    /** k values per block of the micro-kernel: its 7 rows of 1 KiB fit the L1 cache with room to spare. */
    private static final int K_BLOCK = 256;

    private final ThreadLocal<float[]> panels = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> transposed = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> products = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<byte[]> rowBytes = ThreadLocal.withInitial(() -> new byte[0]);

    @Override
    public String name() {
        return "java-vector-" + F.vectorBitSize();
    }

    /** Vector lanes per float vector on this machine (8 with AVX2, 16 with AVX-512). */
    public static int lanes() {
        return L;
    }

    @Override
    public void matVec(WeightMatrix w, float[] x, float[] out) {
        matMul(w, x, 1, out);
    }

    @Override
    public void matMul(WeightMatrix w, float[] x, int n, float[] out) {
        int k = w.cols();
        int m = w.rows();
        if (n == 0) {
            return;
        }
        if (k % 32 != 0 || NR % L != 0) {
            super.matMul(w, x, n, out);
            return;
        }
        byte[] bytes = scratchBytes(w.rowBytes());
        if (n < SMALL_BATCH) {
            float[] row = scratch(panels, k);
            for (int r = 0; r < m; r++) {
                dequantize(w, r, bytes, row, 0);
                for (int i = 0; i < n; i++) {
                    out[i * m + r] = dot(row, 0, x, i * k, k);
                }
            }
            return;
        }
        int np = (n + NR - 1) / NR * NR;
        // the activations transposed, [k][np] (positions n .. np zero): NR consecutive positions are one or two vectors
        float[] xt = scratch(transposed, k * np);
        for (int i0 = 0; i0 < np; i0 += NR) {
            for (int kk = 0; kk < k; kk++) {
                for (int i = i0; i < i0 + NR; i++) {
                    xt[kk * np + i] = i < n ? x[i * k + kk] : 0f;
                }
            }
        }
        float[] panel = scratch(panels, RB * k);
        float[] c = scratch(products, RB * np);
        for (int r0 = 0; r0 < m; r0 += RB) {
            int rn = Math.min(RB, m - r0);
            for (int j = 0; j < RB; j++) {
                if (j < rn) {
                    dequantize(w, r0 + j, bytes, panel, j * k);
                } else {
                    java.util.Arrays.fill(panel, j * k, (j + 1) * k, 0f);
                }
            }
            int rt = (rn + MR - 1) / MR * MR;
            for (int k0 = 0; k0 < k; k0 += K_BLOCK) {
                int kn = Math.min(K_BLOCK, k - k0);
                for (int i = 0; i < np; i += NR) {
                    for (int j = 0; j < rt; j += MR) {
                        tile(panel, j * k + k0, k, xt, k0 * np + i, np, kn, c, j * np + i, k0 == 0);
                    }
                }
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < rn; j++) {
                    out[i * m + r0 + j] = c[j * np + i];
                }
            }
        }
    }

    private static float[] scratch(ThreadLocal<float[]> local, int size) {
        float[] a = local.get();
        if (a.length < size) {
            a = new float[size];
            local.set(a);
        }
        return a;
    }

    private byte[] scratchBytes(int size) {
        byte[] a = rowBytes.get();
        if (a.length < size) {
            a = new byte[size];
            rowBytes.set(a);
        }
        return a;
    }

    /**
     * The micro-kernel: a tile of {@value #MR} weight rows × {@value #NR} positions (12 accumulators of 8 lanes with
     * AVX2, 2 activation vectors and one broadcast weight: 15 registers) over the {@code kn} values of one k block,
     * c[(j) * np + i ..] += sum_k a[row j][k] * xt[k][i ..]. Each product is one sequential sum over k per output (fused
     * multiply-add), carried over k blocks in {@code c}.
     */
    private static void tile(float[] a, int a0, int k, float[] xt, int x0, int np, int kn, float[] c, int c0,
                             boolean first) {
        FloatVector c00 = FloatVector.zero(F);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c40 = c00;
        FloatVector c41 = c00;
        FloatVector c50 = c00;
        FloatVector c51 = c00;
        if (!first) {
            c00 = FloatVector.fromArray(F, c, c0);
            c01 = FloatVector.fromArray(F, c, c0 + L);
            c10 = FloatVector.fromArray(F, c, c0 + np);
            c11 = FloatVector.fromArray(F, c, c0 + np + L);
            c20 = FloatVector.fromArray(F, c, c0 + 2 * np);
            c21 = FloatVector.fromArray(F, c, c0 + 2 * np + L);
            c30 = FloatVector.fromArray(F, c, c0 + 3 * np);
            c31 = FloatVector.fromArray(F, c, c0 + 3 * np + L);
            c40 = FloatVector.fromArray(F, c, c0 + 4 * np);
            c41 = FloatVector.fromArray(F, c, c0 + 4 * np + L);
            c50 = FloatVector.fromArray(F, c, c0 + 5 * np);
            c51 = FloatVector.fromArray(F, c, c0 + 5 * np + L);
        }
        for (int kk = 0; kk < kn; kk++) {
            int xo = x0 + kk * np;
            FloatVector v0 = FloatVector.fromArray(F, xt, xo);
            FloatVector v1 = FloatVector.fromArray(F, xt, xo + L);
            int ao = a0 + kk;
            FloatVector b = FloatVector.broadcast(F, a[ao]);
            c00 = b.fma(v0, c00);
            c01 = b.fma(v1, c01);
            b = FloatVector.broadcast(F, a[ao + k]);
            c10 = b.fma(v0, c10);
            c11 = b.fma(v1, c11);
            b = FloatVector.broadcast(F, a[ao + 2 * k]);
            c20 = b.fma(v0, c20);
            c21 = b.fma(v1, c21);
            b = FloatVector.broadcast(F, a[ao + 3 * k]);
            c30 = b.fma(v0, c30);
            c31 = b.fma(v1, c31);
            b = FloatVector.broadcast(F, a[ao + 4 * k]);
            c40 = b.fma(v0, c40);
            c41 = b.fma(v1, c41);
            b = FloatVector.broadcast(F, a[ao + 5 * k]);
            c50 = b.fma(v0, c50);
            c51 = b.fma(v1, c51);
        }
        c00.intoArray(c, c0);
        c01.intoArray(c, c0 + L);
        c10.intoArray(c, c0 + np);
        c11.intoArray(c, c0 + np + L);
        c20.intoArray(c, c0 + 2 * np);
        c21.intoArray(c, c0 + 2 * np + L);
        c30.intoArray(c, c0 + 3 * np);
        c31.intoArray(c, c0 + 3 * np + L);
        c40.intoArray(c, c0 + 4 * np);
        c41.intoArray(c, c0 + 4 * np + L);
        c50.intoArray(c, c0 + 5 * np);
        c51.intoArray(c, c0 + 5 * np + L);
    }

    @Override
    public void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(F, x, xo + i).fma(FloatVector.broadcast(F, a), FloatVector.fromArray(F, y, yo + i))
                    .intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] += a * x[xo + i];
        }
    }

    /** SwiGLU with the Vector API's exp (a few ulps from {@code DetMath.expf}: another expf). */
    @Override
    public void swiGlu(float[] gate, float[] up, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, i);
            g.div(g.neg().lanewise(VectorOperators.EXP).add(1f)).mul(FloatVector.fromArray(F, up, i))
                    .intoArray(gate, i);
        }
        for (; i < n; i++) {
            float g = gate[i];
            gate[i] = g / (1f + io.earnidle.node.llama.ops.DetMath.expf(-g)) * up[i];
        }
    }

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        if (n % L != 0) {
            return super.dot(a, ao, b, bo, n);
        }
        FloatVector s = FloatVector.zero(F);
        for (int i = 0; i < n; i += L) {
            s = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), s);
        }
        return s.reduceLanes(VectorOperators.ADD);
    }

    /** Row r of w into out[o .. o + cols), through {@code bytes} (the row's bytes): bit for bit {@code Dequant}. */
    private void dequantize(WeightMatrix w, int r, byte[] bytes, float[] out, int o) {
        int k = w.cols();
        ByteBuffer d = w.data();
        GgmlType t = w.type();
        if (t == GgmlType.F32) {
            d.slice(w.rowOffset(r), 4 * k).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out, o, k);
        } else if (t == GgmlType.Q4_0 && L == 8) {
            // block: f16 d, 16 bytes; byte j holds element j (low nibble) and element j + 16 (high nibble)
            d.get(w.rowOffset(r), bytes, 0, w.rowBytes());
            for (int p = 0; p < w.rowBytes(); p += 18, o += 32) {
                float s = Half.toFloat((short) ((bytes[p] & 0xFF) | bytes[p + 1] << 8));
                ByteVector q = ByteVector.fromArray(B16, bytes, p + 2);
                ByteVector lo = q.and((byte) 0xF).sub((byte) 8);
                ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
                ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(s).intoArray(out, o);
                ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 1)).mul(s).intoArray(out, o + 8);
                ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(s).intoArray(out, o + 16);
                ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 1)).mul(s).intoArray(out, o + 24);
            }
        } else if (t == GgmlType.Q8_0 && L == 8) {
            // block: f16 d, 32 signed bytes
            d.get(w.rowOffset(r), bytes, 0, w.rowBytes());
            for (int p = 0; p < w.rowBytes(); p += 34, o += 32) {
                float s = Half.toFloat((short) ((bytes[p] & 0xFF) | bytes[p + 1] << 8));
                for (int part = 0; part < 4; part++) {
                    ByteVector q = ByteVector.fromArray(ByteVector.SPECIES_64, bytes, p + 2 + 8 * part);
                    ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).mul(s).intoArray(out, o + 8 * part);
                }
            }
        } else {
            dequantizeRow(w, r, out, o);
        }
    }
}
