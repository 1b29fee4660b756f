package io.earnidle.node.browser.engine;

import io.earnidle.node.engine.SimdKernelApi;
import org.teavm.jso.JSBody;
import org.teavm.jso.JSObject;
import org.teavm.jso.typedarrays.Float32Array;

/**
 * {@link SimdKernelApi} over the JS glue object of {@code web/node/engine/cpu-glue.js} (which wraps the loader's
 * synchronous {@code SimdKernels}). Every call passes offsets and sizes only, except the small vectors of
 * {@link #writeFloats} / {@link #readFloats} (RoPE table, logits when sampling).
 *
 * <p>When the loader picked the plain SIMD128 build ({@code relaxed === false}), each quantized activation buffer is
 * also widened (widenQ8_0 / widenQ8_K) into one wide buffer per format reserved at load, and the mat-vecs on that
 * buffer run the wide kernels ({@code matvec*W}), whose outputs are bit-identical to the byte kernels but faster
 * without relaxed SIMD. A mat-vec on any other buffer (or wider than the reservation) uses the byte kernel.
 */
final class BrowserSimdKernels implements SimdKernelApi {
    private final JSObject g;
    private final boolean wide;
    private int wide8;
    private int wide8Cap;
    private int wide8Src = -1;
    private int wide8N;
    private int wideK;
    private int wideKCap;
    private int wideKSrc = -1;
    private int wideKN;
    private int wideBatch8;
    private int wideBatchK;
    private int wideBatchTokens;
    private int wideBatchCols;
    private int wideBatchColsK;

    BrowserSimdKernels(JSObject glue) {
        this.g = glue;
        this.wide = plain(glue);
    }

    @JSBody(params = "g", script = "return g.k.relaxed === false;")
    private static native boolean plain(JSObject g);

    @JSBody(params = {"g", "x", "y", "n"}, script = "g.k.widenQ8_0(x, y, n);")
    private static native void widen8(JSObject g, int x, int y, int n);

    @JSBody(params = {"g", "x", "y", "n"}, script = "g.k.widenQ8_K(x, y, n);")
    private static native void widenK(JSObject g, int x, int y, int n);

    @JSBody(params = {"g", "w", "x", "o", "r", "c"}, script = "g.k.matvecQ4_0W(w, x, o, r, c);")
    private static native void q4w(JSObject g, int w, int x, int o, int r, int c);

    @JSBody(params = {"g", "w", "x", "o", "r", "c"}, script = "g.k.matvecQ8_0W(w, x, o, r, c);")
    private static native void q8w(JSObject g, int w, int x, int o, int r, int c);

    @JSBody(params = {"g", "w", "x", "o", "r", "c"}, script = "g.k.matvecQ4_KW(w, x, o, r, c);")
    private static native void q4kw(JSObject g, int w, int x, int o, int r, int c);

    @JSBody(params = {"g", "w", "x", "o", "r", "c"}, script = "g.k.matvecQ6_KW(w, x, o, r, c);")
    private static native void q6kw(JSObject g, int w, int x, int o, int r, int c);

    /** Prefill mat-mul {@code name} of the loader (matmulQ4_0, ..., matmulQ6_KW) over nTok tokens. */
    @JSBody(params = {"g", "name", "w", "x", "o", "r", "c", "n", "xs", "os"},
            script = "g.k[name](w, x, o, r, c, n, xs, os);")
    private static native void matmul(JSObject g, String name, int w, int x, int o, int r, int c, int n, int xs,
                                      int os);

    @JSBody(params = "g", script = "return g.variant;")
    private static native String variant(JSObject g);

    @JSBody(params = "g", script = "return g.k.threads > 1 ? g.k.threads : 1;")
    private static native int threads(JSObject g);

    @JSBody(params = {"g", "n", "a"}, script = "return g.k.alloc(n, a);")
    private static native int alloc(JSObject g, int n, int a);

    @JSBody(params = "g", script = "return g.k.mark();")
    private static native int mark(JSObject g);

    @JSBody(params = {"g", "m"}, script = "g.k.release(m);")
    private static native void release(JSObject g, int m);

    @JSBody(params = {"g", "p", "a", "n"}, script = "g.write(p, a, n);")
    private static native void write(JSObject g, int p, Float32Array a, int n);

    @JSBody(params = {"g", "p", "n"}, script = "return g.read(p, n);")
    private static native Float32Array read(JSObject g, int p, int n);

    @JSBody(params = {"g", "x", "y", "n"}, script = "g.ex.quantize_q8_0(x, y, n);")
    private static native void quantize(JSObject g, int x, int y, int n);

    @JSBody(params = {"g", "w", "x", "o", "r", "c"}, script = "g.k.matvecQ4_0(w, x, o, r, c);")
    private static native void q4(JSObject g, int w, int x, int o, int r, int c);

    @JSBody(params = {"g", "w", "x", "o", "r", "c"}, script = "g.k.matvecQ8_0(w, x, o, r, c);")
    private static native void q8(JSObject g, int w, int x, int o, int r, int c);

    @JSBody(params = {"g", "x", "y", "n"}, script = "g.k.quantizeQ8_K(x, y, n);")
    private static native void quantizeK(JSObject g, int x, int y, int n);

    @JSBody(params = {"g", "w", "x", "o", "r", "c"}, script = "g.k.matvecQ4_K(w, x, o, r, c);")
    private static native void q4k(JSObject g, int w, int x, int o, int r, int c);

    @JSBody(params = {"g", "w", "x", "o", "r", "c"}, script = "g.k.matvecQ6_K(w, x, o, r, c);")
    private static native void q6k(JSObject g, int w, int x, int o, int r, int c);

    @JSBody(params = {"g", "w", "x", "o", "r", "c"}, script = "g.k.matvecF32(w, x, o, r, c);")
    private static native void f32(JSObject g, int w, int x, int o, int r, int c);

    @JSBody(params = {"g", "c"}, script = "g.reserveRowScratch(c);")
    private static native void reserve(JSObject g, int c);

    @JSBody(params = {"g", "t", "w", "x", "o", "r", "c"}, script = "g.matvecDequant(t, w, x, o, r, c);")
    private static native void deqMv(JSObject g, int t, int w, int x, int o, int r, int c);

    @JSBody(params = {"g", "t", "w", "row", "c", "o"}, script = "g.dequantRow(t, w, row, c, o);")
    private static native void deqRow(JSObject g, int t, int w, int row, int c, int o);

    @JSBody(params = {"g", "x", "w", "o", "n", "eps"}, script = "g.ex.rmsnorm(x, w, o, n, eps);")
    private static native void rms(JSObject g, int x, int w, int o, int n, float eps);

    @JSBody(params = {"g", "a", "b", "o", "n"}, script = "g.ex.swiglu(a, b, o, n);")
    private static native void glu(JSObject g, int a, int b, int o, int n);

    @JSBody(params = {"g", "y", "x", "n"}, script = "g.add(y, x, n);")
    private static native void add(JSObject g, int y, int x, int n);

    @JSBody(params = {"g", "v", "h", "d", "cs"}, script = "g.rope(v, h, d, cs);")
    private static native void rope(JSObject g, int v, int h, int d, int cs);

    @JSBody(params = {"g", "q", "k", "v", "o", "s", "nh", "nkv", "hd", "np", "sc"},
            script = "g.attention(q, k, v, o, s, nh, nkv, hd, np, sc);")
    private static native void attn(JSObject g, int q, int k, int v, int o, int s, int nh, int nkv, int hd, int np,
                                    float sc);

    @JSBody(params = "g", script = "g.k.beginJobGroup();")
    private static native void beginGroup(JSObject g);

    @JSBody(params = "g", script = "g.k.endJobGroup();")
    private static native void endGroup(JSObject g);

    @JSBody(params = {"g", "p", "n"}, script = "return g.argmax(p, n);")
    private static native int argmax(JSObject g, int p, int n);

    @Override
    public void beginJobGroup() {
        beginGroup(g);
    }

    @Override
    public void endJobGroup() {
        endGroup(g);
    }

    @Override
    public String variant() {
        return variant(g);
    }

    @Override
    public int threads() {
        return threads(g);
    }

    @Override
    public int alloc(int bytes) {
        return alloc(g, bytes, 64);
    }

    @Override
    public int mark() {
        return mark(g);
    }

    @Override
    public void release(int m) {
        release(g, m);
    }

    @Override
    public void writeFloats(int ptr, float[] src, int n) {
        write(g, ptr, Float32Array.copyFromJavaArray(src), n);
    }

    @Override
    public void readFloats(int ptr, float[] dst, int n) {
        float[] v = read(g, ptr, n).copyToJavaArray();
        System.arraycopy(v, 0, dst, 0, n);
    }

    @Override
    public void quantizeQ8_0(int x, int y, int n) {
        quantize(g, x, y, n);
        wide8Src = -1;
        if (wide && n <= wide8Cap && n % 32 == 0) {
            widen8(g, y, wide8, n);
            wide8Src = y;
            wide8N = n;
        }
    }

    /** The wide copy of Q8_0 buffer {@code xq8} quantized from {@code cols} values, or -1. */
    private int wide8(int xq8, int cols) {
        return xq8 == wide8Src && cols == wide8N ? wide8 : -1;
    }

    @Override
    public void matvecQ4_0(int w, int xq8, int out, int rows, int cols) {
        int xw = wide8(xq8, cols);
        if (xw >= 0) {
            q4w(g, w, xw, out, rows, cols);
        } else {
            q4(g, w, xq8, out, rows, cols);
        }
    }

    @Override
    public void matvecQ8_0(int w, int xq8, int out, int rows, int cols) {
        int xw = wide8(xq8, cols);
        if (xw >= 0) {
            q8w(g, w, xw, out, rows, cols);
        } else {
            q8(g, w, xq8, out, rows, cols);
        }
    }

    @Override
    public void quantizeQ8_K(int x, int y, int n) {
        quantizeK(g, x, y, n);
        wideKSrc = -1;
        if (wide && n <= wideKCap && n % 256 == 0) {
            widenK(g, y, wideK, n);
            wideKSrc = y;
            wideKN = n;
        }
    }

    /** The wide copy of Q8_K buffer {@code xq8k} quantized from {@code cols} values, or -1. */
    private int wideK(int xq8k, int cols) {
        return xq8k == wideKSrc && cols == wideKN ? wideK : -1;
    }

    @Override
    public void matvecQ4_K(int w, int xq8k, int out, int rows, int cols) {
        int xw = wideK(xq8k, cols);
        if (xw >= 0) {
            q4kw(g, w, xw, out, rows, cols);
        } else {
            q4k(g, w, xq8k, out, rows, cols);
        }
    }

    @Override
    public void matvecQ6_K(int w, int xq8k, int out, int rows, int cols) {
        int xw = wideK(xq8k, cols);
        if (xw >= 0) {
            q6kw(g, w, xw, out, rows, cols);
        } else {
            q6k(g, w, xq8k, out, rows, cols);
        }
    }

    @Override
    public void reserveBatch(int maxTokens, int maxCols) {
        if (wide) { // the plain build's mat-muls read wide (i16) rows: one per token, reserved with the model
            wideBatchTokens = maxTokens;
            wideBatchCols = maxCols / 32 * 32;
            wideBatchColsK = maxCols / 256 * 256;
            wideBatch8 = alloc(maxTokens * (wideBatchCols / 32 * 72));
            wideBatchK = alloc(maxTokens * (wideBatchColsK / 256 * 548));
        }
    }

    @Override
    public void matmulQ4_0(int w, int xq8, int out, int rows, int cols, int nTok, int xStride, int outStride) {
        matmul8("matmulQ4_0", w, xq8, out, rows, cols, nTok, xStride, outStride);
    }

    @Override
    public void matmulQ8_0(int w, int xq8, int out, int rows, int cols, int nTok, int xStride, int outStride) {
        matmul8("matmulQ8_0", w, xq8, out, rows, cols, nTok, xStride, outStride);
    }

    @Override
    public void matmulQ4_K(int w, int xq8k, int out, int rows, int cols, int nTok, int xStride, int outStride) {
        matmulK("matmulQ4_K", w, xq8k, out, rows, cols, nTok, xStride, outStride);
    }

    @Override
    public void matmulQ6_K(int w, int xq8k, int out, int rows, int cols, int nTok, int xStride, int outStride) {
        matmulK("matmulQ6_K", w, xq8k, out, rows, cols, nTok, xStride, outStride);
    }

    private void matmul8(String name, int w, int xq8, int out, int rows, int cols, int nTok, int xStride, int outStride) {
        if (wide && nTok <= wideBatchTokens && cols <= wideBatchCols && cols % 32 == 0) {
            int ws = cols / 32 * 72;
            for (int t = 0; t < nTok; t++) {
                widen8(g, xq8 + t * xStride, wideBatch8 + t * ws, cols);
            }
            matmul(g, name + "W", w, wideBatch8, out, rows, cols, nTok, ws, outStride);
        } else {
            matmul(g, name, w, xq8, out, rows, cols, nTok, xStride, outStride);
        }
    }

    private void matmulK(String name, int w, int xq8k, int out, int rows, int cols, int nTok, int xStride, int outStride) {
        if (wide && nTok <= wideBatchTokens && cols <= wideBatchColsK && cols % 256 == 0) {
            int ws = cols / 256 * 548;
            for (int t = 0; t < nTok; t++) {
                widenK(g, xq8k + t * xStride, wideBatchK + t * ws, cols);
            }
            matmul(g, name + "W", w, wideBatchK, out, rows, cols, nTok, ws, outStride);
        } else {
            matmul(g, name, w, xq8k, out, rows, cols, nTok, xStride, outStride);
        }
    }

    /** The relaxed-SIMD build runs Q4_0 in the 4-row interleaved layout (the plain build keeps its wide i16 path). */
    @Override
    public boolean hasQ4_0x4() {
        return !wide;
    }

    @JSBody(params = {"g", "w", "r", "c"}, script = "return g.k.repackQ4_0X4(w, r, c);")
    private static native int repackX4(JSObject g, int w, int r, int c);

    @JSBody(params = {"g", "w", "x", "o", "r", "c", "ns"}, script = "g.k.matvecQ4_0X4(w, x, o, r, c, ns);")
    private static native void q4x4(JSObject g, int w, int x, int o, int r, int c, boolean ns);

    @JSBody(params = {"g", "w", "row", "c", "o"}, script = "g.k.dequantRowQ4_0X4(w, row, c, o);")
    private static native void deqRowX4(JSObject g, int w, int row, int c, int o);

    @Override
    public int repackQ4_0x4(int w, int rows, int cols) {
        return repackX4(g, w, rows, cols);
    }

    @Override
    public void matvecQ4_0x4(int w, int xq8, int out, int rows, int cols, boolean noSubnormalScales) {
        q4x4(g, w, xq8, out, rows, cols, noSubnormalScales);
    }

    @Override
    public void matmulQ4_0x4(int w, int xq8, int out, int rows, int cols, int nTok, int xStride, int outStride) {
        matmul(g, "matmulQ4_0X4", w, xq8, out, rows, cols, nTok, xStride, outStride);
    }

    @Override
    public void dequantRowQ4_0x4(int w, int row, int cols, int out) {
        deqRowX4(g, w, row, cols, out);
    }

    @Override
    public void matvecF32(int w, int x, int out, int rows, int cols) {
        f32(g, w, x, out, rows, cols);
    }

    @Override
    public void reserveRowScratch(int maxCols) {
        reserve(g, maxCols);
        if (wide) { // at load, before the KV cache: the wide buffers live as long as the model
            wide8Cap = maxCols / 32 * 32;
            wide8 = alloc(wide8Cap / 32 * 72);
            wideKCap = maxCols / 256 * 256;
            wideK = alloc(wideKCap / 256 * 548);
        }
    }

    @Override
    public void matvecDequant(int ggmlType, int w, int x, int out, int rows, int cols) {
        deqMv(g, ggmlType, w, x, out, rows, cols);
    }

    @Override
    public void dequantRow(int ggmlType, int w, int row, int cols, int out) {
        deqRow(g, ggmlType, w, row, cols, out);
    }

    @Override
    public void rmsnorm(int x, int weight, int out, int n, float eps) {
        rms(g, x, weight, out, n, eps);
    }

    @Override
    public void swiglu(int gate, int up, int out, int n) {
        glu(g, gate, up, out, n);
    }

    @Override
    public void add(int y, int x, int n) {
        add(g, y, x, n);
    }

    @Override
    public void rope(int v, int nHeads, int headDim, int cosSin) {
        rope(g, v, nHeads, headDim, cosSin);
    }

    @Override
    public void attention(int q, int kCache, int vCache, int out, int scores, int nHead, int nKvHead, int headDim,
                          int nPos, float scale) {
        attn(g, q, kCache, vCache, out, scores, nHead, nKvHead, headDim, nPos, scale);
    }

    @Override
    public int argmax(int ptr, int n) {
        return argmax(g, ptr, n);
    }
}
