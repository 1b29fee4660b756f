package io.earnidle.node.engine;

import io.earnidle.node.gguf.Dequant;
import io.earnidle.node.gguf.GgmlType;
import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.gguf.Half;
import io.earnidle.node.llama.ops.DetMath;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * JVM emulation of the WASM SIMD kernel API over a heap ByteBuffer "linear memory": Q8_0 activation quantization
 * exactly as ggml's quantize_row_q8_0_ref (f16 scale), Q8_K as quantize_row_q8_K_ref, integer block dot products
 * scaled per block in the SIMD kernels' float order (Q4_0/Q8_0/Q4_K/Q6_K), f32 elsewhere. It is the JVM Q8-activation reference the browser's wasm engine is compared against.
 */
public final class JavaSimdKernels implements SimdKernelApi {
    final ByteBuffer mem;
    private int top = 1024;

    JavaSimdKernels(int capacity) {
        mem = ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Loads a GGUF file into a fresh emulated memory and builds the engine over it. */
    public static SimdLlama load(Path gguf, int extraBytes) throws java.io.IOException {
        byte[] file = Files.readAllBytes(gguf);
        JavaSimdKernels k = new JavaSimdKernels(file.length + extraBytes + 4096);
        int base = k.alloc(file.length);
        k.mem.put(base, file);
        return new SimdLlama(k, GgufFile.read(ByteBuffer.wrap(file), file.length, (o, n) -> {
            throw new IllegalStateException("tensor bytes must not be read through Java");
        }), base);
    }

    @Override
    public String variant() {
        return "jvm-q8-emulation";
    }

    @Override
    public int alloc(int bytes) {
        int p = (top + 63) / 64 * 64;
        if ((long) p + bytes > mem.capacity()) {
            throw new IllegalStateException("emulated memory full");
        }
        top = p + bytes;
        return p;
    }

    @Override
    public int mark() {
        return top;
    }

    @Override
    public void release(int mark) {
        top = mark;
    }

    private float f(int p) {
        return mem.getFloat(p);
    }

    private void f(int p, float v) {
        mem.putFloat(p, v);
    }

    @Override
    public void writeFloats(int ptr, float[] src, int n) {
        for (int i = 0; i < n; i++) {
            f(ptr + 4 * i, src[i]);
        }
    }

    @Override
    public void readFloats(int ptr, float[] dst, int n) {
        for (int i = 0; i < n; i++) {
            dst[i] = f(ptr + 4 * i);
        }
    }

    @Override
    public void quantizeQ8_0(int x, int y, int n) {
        int nb = n / 32;
        for (int b = 0; b < nb; b++) {
            float amax = 0f;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(f(x + 4 * (b * 32 + j))));
            }
            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                float v = f(x + 4 * (b * 32 + j)) * id;
                int qv = (int) (v < 0 ? -Math.floor(-v + 0.5f) : Math.floor(v + 0.5f)); // roundf: ties away
                mem.put(y + b * 32 + j, (byte) qv);
                sum += qv;
            }
            f(y + n + 4 * b, Half.toFloat(Half.fromFloat(d)));
            mem.putInt(y + n + 4 * nb + 4 * b, sum);
        }
    }

    private void matvecQ(int w, int xq, int out, int rows, int cols, boolean q4) {
        int nb = cols / 32;
        int bb = q4 ? 18 : 34;
        for (int r = 0; r < rows; r++) {
            float acc = 0f;
            int rp = w + r * nb * bb;
            for (int b = 0; b < nb; b++) {
                int bp = rp + b * bb;
                float dw = Half.toFloat(mem.getShort(bp));
                int t = 0;
                if (q4) {
                    for (int j = 0; j < 16; j++) {
                        int v = mem.get(bp + 2 + j) & 0xff;
                        t += ((v & 15) - 8) * mem.get(xq + b * 32 + j) + ((v >>> 4) - 8) * mem.get(xq + b * 32 + j + 16);
                    }
                } else {
                    for (int j = 0; j < 32; j++) {
                        t += mem.get(bp + 2 + j) * mem.get(xq + b * 32 + j);
                    }
                }
                acc += (float) t * (dw * f(xq + cols + 4 * b));
            }
            f(out + 4 * r, acc);
        }
    }

    @Override
    public void matvecQ4_0(int w, int xq8, int out, int rows, int cols) {
        matvecQ(w, xq8, out, rows, cols, true);
    }

    @Override
    public void matvecQ8_0(int w, int xq8, int out, int rows, int cols) {
        matvecQ(w, xq8, out, rows, cols, false);
    }

    /** ggml's nearest_int: float add of 1.5*2^23, then the mantissa bits (round half to even). */
    private static int nearestInt(float v) {
        float val = v + 12582912.f;
        return (Float.floatToRawIntBits(val) & 0x007fffff) - 0x00400000;
    }

    /** quantize_row_q8_K_ref: i8 qs[n] | i16 bsums[n/16] | f32 d[n/256]. */
    @Override
    public void quantizeQ8_K(int x, int y, int n) {
        int nb = n / 256;
        for (int b = 0; b < nb; b++) {
            float max = 0f;
            float amax = 0f;
            for (int j = 0; j < 256; j++) {
                float v = f(x + 4 * (b * 256 + j));
                if (Math.abs(v) > amax) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            if (amax == 0f) {
                for (int j = 0; j < 256; j++) {
                    mem.put(y + b * 256 + j, (byte) 0);
                }
                for (int g = 0; g < 16; g++) {
                    mem.putShort(y + n + 32 * b + 2 * g, (short) 0);
                }
                f(y + n + 32 * nb + 4 * b, 0f);
                continue;
            }
            float iscale = -127f / max;
            for (int g = 0; g < 16; g++) {
                int sum = 0;
                for (int i = 0; i < 16; i++) {
                    int j = b * 256 + 16 * g + i;
                    int qv = Math.min(127, nearestInt(iscale * f(x + 4 * j)));
                    mem.put(y + j, (byte) qv);
                    sum += qv;
                }
                mem.putShort(y + n + 32 * b + 2 * g, (short) sum);
            }
            f(y + n + 32 * nb + 4 * b, 1f / iscale);
        }
    }

    /** ggml's get_scale_min_k4 over the 12 packed bytes at p: {scale, min} of sub-block j. */
    private int[] scaleMinK4(int p, int j) {
        if (j < 4) {
            return new int[] {mem.get(p + j) & 63, mem.get(p + j + 4) & 63};
        }
        int d = (mem.get(p + j + 4) & 0xF) | (((mem.get(p + j - 4) & 0xff) >> 6) << 4);
        int m = ((mem.get(p + j + 4) & 0xff) >> 4) | (((mem.get(p + j) & 0xff) >> 6) << 4);
        return new int[] {d, m};
    }

    /**
     * Exact integer sums per super-block, then the kernel's float sequence: acc += f32(S)·(d·d_x); four min lanes
     * (lane i: m_i·(bsum_2i + bsum_2i+1) + m_i+4·(bsum_2i+8 + bsum_2i+9)) accumulate f32(lane)·(dmin·d_x); row =
     * acc − ((l0 + l1) + (l2 + l3)).
     */
    @Override
    public void matvecQ4_K(int w, int xq8k, int out, int rows, int cols) {
        int nb = cols / 256;
        int xb = xq8k + cols;
        int xd = xb + 32 * nb;
        for (int r = 0; r < rows; r++) {
            float acc = 0f;
            float[] accm = new float[4];
            for (int b = 0; b < nb; b++) {
                int p = w + (r * nb + b) * 144;
                float dx = f(xd + 4 * b);
                int s = 0;
                int[] mins = new int[8];
                for (int j = 0; j < 8; j++) {
                    int[] sm = scaleMinK4(p + 4, j);
                    mins[j] = sm[1];
                    int dot = 0;
                    for (int l = 0; l < 32; l++) {
                        int qb = mem.get(p + 16 + 32 * (j / 2) + l) & 0xff;
                        int nib = (j % 2 == 0) ? (qb & 15) : (qb >> 4);
                        dot += nib * mem.get(xq8k + b * 256 + 32 * j + l);
                    }
                    s += sm[0] * dot;
                }
                acc += (float) s * (Half.toFloat(mem.getShort(p)) * dx);
                float dm = Half.toFloat(mem.getShort(p + 2)) * dx;
                for (int i = 0; i < 4; i++) {
                    int bs = xb + 32 * b;
                    int lane = mins[i] * (mem.getShort(bs + 2 * (2 * i)) + mem.getShort(bs + 2 * (2 * i + 1)))
                            + mins[i + 4] * (mem.getShort(bs + 2 * (2 * i + 8)) + mem.getShort(bs + 2 * (2 * i + 9)));
                    accm[i] += (float) lane * dm;
                }
            }
            f(out + 4 * r, acc - ((accm[0] + accm[1]) + (accm[2] + accm[3])));
        }
    }

    /** Exact i32 T = Σ_g sc_g·Σ (q6 − 32)·q8 per super-block, then acc += f32(T)·(d·d_x). */
    @Override
    public void matvecQ6_K(int w, int xq8k, int out, int rows, int cols) {
        int nb = cols / 256;
        int xd = xq8k + cols + 32 * nb;
        int[] v = new int[256];
        for (int r = 0; r < rows; r++) {
            float acc = 0f;
            for (int b = 0; b < nb; b++) {
                int p = w + (r * nb + b) * 210;
                for (int half = 0; half < 2; half++) {
                    int ql = p + 64 * half;
                    int qh = p + 128 + 32 * half;
                    int o = 128 * half;
                    for (int l = 0; l < 32; l++) {
                        int lo0 = mem.get(ql + l) & 0xff;
                        int lo1 = mem.get(ql + l + 32) & 0xff;
                        int h = mem.get(qh + l) & 0xff;
                        v[o + l] = ((lo0 & 15) | ((h & 3) << 4)) - 32;
                        v[o + l + 32] = ((lo1 & 15) | (((h >> 2) & 3) << 4)) - 32;
                        v[o + l + 64] = ((lo0 >> 4) | (((h >> 4) & 3) << 4)) - 32;
                        v[o + l + 96] = ((lo1 >> 4) | (((h >> 6) & 3) << 4)) - 32;
                    }
                }
                int t = 0;
                for (int g = 0; g < 16; g++) {
                    int dot = 0;
                    for (int i = 0; i < 16; i++) {
                        dot += v[16 * g + i] * mem.get(xq8k + b * 256 + 16 * g + i);
                    }
                    t += mem.get(p + 192 + g) * dot;
                }
                acc += (float) t * (Half.toFloat(mem.getShort(p + 208)) * f(xd + 4 * b));
            }
            f(out + 4 * r, acc);
        }
    }

    @Override
    public void matvecF32(int w, int x, int out, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            float s = 0f;
            for (int i = 0; i < cols; i++) {
                s += f(w + 4 * (r * cols + i)) * f(x + 4 * i);
            }
            f(out + 4 * r, s);
        }
    }

    @Override
    public void reserveRowScratch(int maxCols) {
    }

    @Override
    public void matvecDequant(int ggmlType, int w, int x, int out, int rows, int cols) {
        GgmlType t = GgmlType.fromId(ggmlType);
        float[] row = new float[cols];
        long rb = t.byteSize(cols);
        for (int r = 0; r < rows; r++) {
            Dequant.dequantize(mem, (int) (w + r * rb), t, cols, row, 0);
            float s = 0f;
            for (int i = 0; i < cols; i++) {
                s += row[i] * f(x + 4 * i);
            }
            f(out + 4 * r, s);
        }
    }

    @Override
    public void dequantRow(int ggmlType, int w, int row, int cols, int out) {
        GgmlType t = GgmlType.fromId(ggmlType);
        float[] v = new float[cols];
        Dequant.dequantize(mem, (int) (w + row * t.byteSize(cols)), t, cols, v, 0);
        writeFloats(out, v, cols);
    }

    @Override
    public void rmsnorm(int x, int weight, int out, int n, float eps) {
        double sum = 0.0;
        for (int i = 0; i < n; i++) {
            float v = f(x + 4 * i);
            sum += (double) (v * v);
        }
        float mean = (float) (sum / n);
        float scale = (float) (1.0 / Math.sqrt((double) (mean + eps)));
        for (int i = 0; i < n; i++) {
            f(out + 4 * i, f(x + 4 * i) * scale * f(weight + 4 * i));
        }
    }

    @Override
    public void swiglu(int g, int u, int out, int n) {
        for (int i = 0; i < n; i++) {
            float gv = f(g + 4 * i);
            f(out + 4 * i, gv / (1f + DetMath.expf(-gv)) * f(u + 4 * i));
        }
    }

    @Override
    public void add(int y, int x, int n) {
        for (int i = 0; i < n; i++) {
            f(y + 4 * i, f(y + 4 * i) + f(x + 4 * i));
        }
    }

    @Override
    public void rope(int v, int nHeads, int headDim, int cosSin) {
        int half = headDim / 2;
        for (int h = 0; h < nHeads; h++) {
            for (int i = 0; i < half; i++) {
                float cos = f(cosSin + 4 * i);
                float sin = f(cosSin + 4 * (half + i));
                int p = v + 4 * (h * headDim + 2 * i);
                float a = f(p);
                float b = f(p + 4);
                f(p, a * cos - b * sin);
                f(p + 4, a * sin + b * cos);
            }
        }
    }

    @Override
    public void attention(int q, int kCache, int vCache, int out, int scores, int nHead, int nKvHead, int headDim,
                          int nPos, float scale) {
        int kvDim = nKvHead * headDim;
        int group = nHead / nKvHead;
        for (int h = 0; h < nHead; h++) {
            int qo = h * headDim;
            int kvo = (h / group) * headDim;
            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t < nPos; t++) {
                float s = 0f;
                for (int i = 0; i < headDim; i++) {
                    s += f(q + 4 * (qo + i)) * f(kCache + 4 * (t * kvDim + kvo + i));
                }
                s *= scale;
                f(scores + 4 * t, s);
                max = Math.max(max, s);
            }
            float sum = 0f;
            for (int t = 0; t < nPos; t++) {
                float e = DetMath.expf(f(scores + 4 * t) - max);
                f(scores + 4 * t, e);
                sum += e;
            }
            float inv = 1f / sum;
            for (int i = 0; i < headDim; i++) {
                float a = 0f;
                for (int t = 0; t < nPos; t++) {
                    a += f(scores + 4 * t) * inv * f(vCache + 4 * (t * kvDim + kvo + i));
                }
                f(out + 4 * (qo + i), a);
            }
        }
    }

    @Override
    public int argmax(int ptr, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (f(ptr + 4 * i) > f(ptr + 4 * best)) {
                best = i;
            }
        }
        return best;
    }
}
