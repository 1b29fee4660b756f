package io.earnidle.node.browser.engine;

import io.earnidle.node.engine.SimdKernelApi;
import org.teavm.jso.JSBody;
import org.teavm.jso.JSObject;
import org.teavm.jso.typedarrays.Float32Array;

/**
 * {@link SimdKernelApi} over the JS glue object of {@code web/node/engine/cpu-glue.js} (which wraps the loader's
 * synchronous {@code SimdKernels}). Every call passes offsets and sizes only, except the small vectors of
 * {@link #writeFloats} / {@link #readFloats} (RoPE table, logits when sampling).
 */
final class BrowserSimdKernels implements SimdKernelApi {
    private final JSObject g;

    BrowserSimdKernels(JSObject glue) {
        this.g = glue;
    }

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

    @JSBody(params = {"g", "p", "n"}, script = "return g.argmax(p, n);")
    private static native int argmax(JSObject g, int p, int n);

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
    }

    @Override
    public void matvecQ4_0(int w, int xq8, int out, int rows, int cols) {
        q4(g, w, xq8, out, rows, cols);
    }

    @Override
    public void matvecQ8_0(int w, int xq8, int out, int rows, int cols) {
        q8(g, w, xq8, out, rows, cols);
    }

    @Override
    public void matvecF32(int w, int x, int out, int rows, int cols) {
        f32(g, w, x, out, rows, cols);
    }

    @Override
    public void reserveRowScratch(int maxCols) {
        reserve(g, maxCols);
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
