package io.earnidle.node.engine;

/**
 * The synchronous kernel calls {@link SimdLlama} orchestrates, over ONE linear memory addressed by byte offsets
 * (pointers). In the browser this is the hand-written WASM SIMD module ({@code /kernels/simd/simd-kernels.js}) plus
 * a few small JS helpers (RoPE, residual add, fallback dequantization); on the JVM a test double emulates it.
 * Only offsets, sizes and small vectors cross this interface; weights, KV cache and activations stay in the memory.
 *
 * <p>Formats: Q4_0 and Q8_0 weights run the integer SIMD mat-vecs against Q8_0-quantized activations
 * ({@link #quantizeQ8_0}, as llama.cpp does); Q4_K and Q6_K weights (cols a multiple of 256) run the integer SIMD
 * mat-vecs against Q8_K-quantized activations ({@link #quantizeQ8_K}); F32 weights run the f32 SIMD mat-vec; every
 * other case (F16, BF16, Q4_1, K-quants with other widths) runs {@link #matvecDequant}: each row dequantized to f32
 * scratch, then the SIMD f32 dot product.
 */
public interface SimdKernelApi {
    /** Report name, e.g. "wasm-simd", "wasm-simd-relaxed-mt2". */
    String variant();

    /** Threads the mat-vecs run on (the caller plus helper workers). */
    default int threads() {
        return 1;
    }

    /** Reserves {@code bytes} (64-byte aligned); returns the offset. */
    int alloc(int bytes);

    int mark();

    void release(int mark);

    void writeFloats(int ptr, float[] src, int n);

    void readFloats(int ptr, float[] dst, int n);

    /** Q8 activation buffer ({@code n/32*40} bytes: i8 qs[n] | f32 d[n/32] | i32 sum[n/32]) from n f32 at x. */
    void quantizeQ8_0(int x, int y, int n);

    void matvecQ4_0(int w, int xq8, int out, int rows, int cols);

    void matvecQ8_0(int w, int xq8, int out, int rows, int cols);

    void matvecF32(int w, int x, int out, int rows, int cols);

    /**
     * Q8_K activation buffer ({@code n/256*292} bytes: i8 qs[n] | i16 bsums[n/16] | f32 d[n/256]) from n f32 at x,
     * as ggml's quantize_row_q8_K_ref; n a multiple of 256.
     */
    void quantizeQ8_K(int x, int y, int n);

    /** Q4_K rows (144-byte super-blocks) times a Q8_K activation buffer; cols a multiple of 256. */
    void matvecQ4_K(int w, int xq8k, int out, int rows, int cols);

    /** Q6_K rows (210-byte super-blocks) times a Q8_K activation buffer; cols a multiple of 256. */
    void matvecQ6_K(int w, int xq8k, int out, int rows, int cols);

    /**
     * Prefill: {@code nTok} mat-vecs against the same Q4_0 weights in one pass over them. Token t reads the Q8_0
     * buffer at {@code xq8 + t*xStride} and writes {@code rows} f32 at {@code out + t*outStride}. Must equal
     * {@code nTok} calls of {@link #matvecQ4_0} bit for bit (the default is that loop).
     */
    default void matmulQ4_0(int w, int xq8, int out, int rows, int cols, int nTok, int xStride, int outStride) {
        for (int t = 0; t < nTok; t++) {
            matvecQ4_0(w, xq8 + t * xStride, out + t * outStride, rows, cols);
        }
    }

    /** As {@link #matmulQ4_0} for Q8_0 weights. */
    default void matmulQ8_0(int w, int xq8, int out, int rows, int cols, int nTok, int xStride, int outStride) {
        for (int t = 0; t < nTok; t++) {
            matvecQ8_0(w, xq8 + t * xStride, out + t * outStride, rows, cols);
        }
    }

    /** As {@link #matmulQ4_0} for Q4_K weights on Q8_K buffers. */
    default void matmulQ4_K(int w, int xq8k, int out, int rows, int cols, int nTok, int xStride, int outStride) {
        for (int t = 0; t < nTok; t++) {
            matvecQ4_K(w, xq8k + t * xStride, out + t * outStride, rows, cols);
        }
    }

    /** As {@link #matmulQ4_0} for Q6_K weights on Q8_K buffers. */
    default void matmulQ6_K(int w, int xq8k, int out, int rows, int cols, int nTok, int xStride, int outStride) {
        for (int t = 0; t < nTok; t++) {
            matvecQ6_K(w, xq8k + t * xStride, out + t * outStride, rows, cols);
        }
    }

    /**
     * Whether the kernels have the 4-row interleaved Q4_0 layout: {@link #repackQ4_0x4} and the {@code *Q4_0x4} calls,
     * which compute bit for bit what the original-layout calls compute, faster (the relaxed-SIMD build).
     */
    default boolean hasQ4_0x4() {
        return false;
    }

    /**
     * Rearranges a Q4_0 matrix in place into the 4-row interleaved layout ({@code rows} a multiple of 4, {@code cols}
     * of 128); from then on only {@link #matvecQ4_0x4}, {@link #matmulQ4_0x4} and {@link #dequantRowQ4_0x4} read it.
     *
     * @return how many of its f16 scales are subnormal (0: {@link #matvecQ4_0x4} may take {@code noSubnormalScales})
     */
    default int repackQ4_0x4(int w, int rows, int cols) {
        throw new UnsupportedOperationException("no 4-row interleaved Q4_0 kernels in " + variant());
    }

    /**
     * {@link #matvecQ4_0} on a matrix repacked by {@link #repackQ4_0x4}; the same outputs bit for bit.
     * {@code noSubnormalScales} (the repack counted none) picks a kernel with a cheaper scale conversion, which
     * would stay exact but run slowly on subnormal scales.
     */
    default void matvecQ4_0x4(int w, int xq8, int out, int rows, int cols, boolean noSubnormalScales) {
        throw new UnsupportedOperationException("no 4-row interleaved Q4_0 kernels in " + variant());
    }

    /** {@link #matmulQ4_0} on a matrix repacked by {@link #repackQ4_0x4}; the same outputs bit for bit. */
    default void matmulQ4_0x4(int w, int xq8, int out, int rows, int cols, int nTok, int xStride, int outStride) {
        throw new UnsupportedOperationException("no 4-row interleaved Q4_0 kernels in " + variant());
    }

    /** {@link #dequantRow} of Q4_0 on a matrix repacked by {@link #repackQ4_0x4}; the same values. */
    default void dequantRowQ4_0x4(int w, int row, int cols, int out) {
        throw new UnsupportedOperationException("no 4-row interleaved Q4_0 kernels in " + variant());
    }

    /**
     * Opens a job group: the mat-vecs and mat-muls called until {@link #endJobGroup} may run as one threaded job (the
     * threads meet once for all of them), so their outputs are defined only after {@link #endJobGroup}, and none may
     * read another's output. Use it for independent products of one input (q|k|v, gate|up). Quantize calls inside
     * run at once. Where there is nothing to gain (one thread), the products run at once.
     */
    default void beginJobGroup() {
    }

    /** Runs the products of the open job group (see {@link #beginJobGroup}). */
    default void endJobGroup() {
    }

    /** Reserves what the mat-muls need for batches of up to {@code maxTokens} rows of up to {@code maxCols} (once, at load). */
    default void reserveBatch(int maxTokens, int maxCols) {
    }

    /** Reserves scratch for {@link #matvecDequant} rows of up to {@code maxCols} values (once, at load). */
    void reserveRowScratch(int maxCols);

    /** Fallback mat-vec for any GGUF type id: row dequantized to f32, then an f32 dot product with x. */
    void matvecDequant(int ggmlType, int w, int x, int out, int rows, int cols);

    /** Row {@code row} of a {@code cols}-wide matrix of type {@code ggmlType} at w, as f32 at out. */
    void dequantRow(int ggmlType, int w, int row, int cols, int out);

    void rmsnorm(int x, int weight, int out, int n, float eps);

    /** out[i] = silu(g[i]) * u[i]. */
    void swiglu(int g, int u, int out, int n);

    /** y[i] += x[i]. */
    void add(int y, int x, int n);

    /** Rotates adjacent pairs of {@code nHeads} heads at v by the table at cosSin (headDim/2 cos, then headDim/2 sin). */
    void rope(int v, int nHeads, int headDim, int cosSin);

    /**
     * Causal GQA attention of one query over positions [0, nPos): per head softmax(scale·q·k) · v; caches are
     * nPos rows of nKvHead·headDim f32; scores is nHead·nPos f32 scratch (heads may run in parallel).
     */
    void attention(int q, int kCache, int vCache, int out, int scores, int nHead, int nKvHead, int headDim, int nPos,
                   float scale);

    /** Index of the largest of n f32 at ptr (lowest index on ties). */
    int argmax(int ptr, int n);
}
