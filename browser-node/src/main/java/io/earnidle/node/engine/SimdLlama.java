package io.earnidle.node.engine;

import io.earnidle.node.gguf.GgmlType;
import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.gguf.GgufFormatException;
import io.earnidle.node.gguf.GgufTensorInfo;
import io.earnidle.node.llama.ContextLengthExceededException;
import io.earnidle.node.llama.LlamaConfig;
import io.earnidle.node.llama.LlamaWeights;
import io.earnidle.node.llama.Rope;
import io.earnidle.node.llama.Sampler;
import io.earnidle.node.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * The Llama forward pass orchestrated in Java over a {@link SimdKernelApi}: the GGUF file lies in the kernel memory
 * at {@code base} (streamed there once), Java keeps only tensor offsets, the KV cache and activations are allocated
 * in the same memory. Matches {@link io.earnidle.node.llama.LlamaModel}'s graph and loads the model with the same
 * {@link LlamaWeights} (tensors placed in the kernel memory); RoPE angles come from the same {@link Rope} tables (one
 * cos/sin table per position is written into the memory).
 */
public final class SimdLlama implements Engine {
    private final SimdKernelApi k;
    private final LlamaWeights<Mat, Integer> w;
    private final LlamaConfig c;
    private final Mat tokenEmbd;
    private final Mat output;
    private final int outputNorm;
    private final List<LlamaWeights.Layer<Mat, Integer>> layers;
    private final Rope rope;
    // activations
    private final int x, xb, xq8, xq8k, q, att, tmp, hb, hb2, hq8, hq8k, logits, cosSin;
    // prefill batch: the same buffers with one row per token (strides in bytes)
    private static final int MAX_BATCH = 32;
    private final int bx, bxb, bq, batt, btmp, bhb, bhb2, bxq8, bxq8k, bhq8, bhq8k, bCosSin;
    private final int q8Stride, q8KStride, hq8Stride, hq8KStride;
    private final int scratchMark;
    private int capacity;
    private int[] kCache = new int[0];
    private int[] vCache = new int[0];
    private int scores;
    private final long weightBytesPerToken;
    private long tokens;
    private long steps;
    /** Whether {@link #mat} repacked any matrix into the 4-row interleaved layout. */
    private boolean anyX4;

    /**
     * A weight matrix in the kernel memory; {@code x4}: a Q4_0 matrix the kernels repacked into their 4-row layout,
     * {@code x4NoSubnormal}: and none of its scales is a subnormal f16 (the faster x4 mat-vec applies).
     */
    record Mat(int ptr, GgmlType type, int cols, int rows, long bytes, boolean x4, boolean x4NoSubnormal) {
    }

    /**
     * @param f    the parsed header (tensor offsets are file offsets)
     * @param base kernel-memory offset of the file's byte 0
     */
    public SimdLlama(SimdKernelApi k, GgufFile f, int base) {
        this.k = k;
        this.w = LlamaWeights.load(f, new LlamaWeights.Placement<>() {
            @Override
            public Mat matrix(GgufTensorInfo t, int cols, int rows) {
                return mat(base, t, cols, rows);
            }

            @Override
            public Integer vector(GgufTensorInfo t, int n) {
                return vec(base, t, n);
            }

            @Override
            public float[] read(Integer vector, int n) {
                float[] out = new float[n];
                k.readFloats(vector, out, n);
                return out;
            }
        });
        this.c = w.config();
        this.rope = w.rope();
        int dim = c.dim();
        int qDim = c.heads() * c.headDim();
        int hid = c.hiddenDim();
        int vocab = c.vocabSize();
        tokenEmbd = w.tokenEmbd();
        layers = w.layers();
        long wb = 0;
        for (LlamaWeights.Layer<Mat, Integer> y : layers) {
            wb += y.wq().bytes + y.wk().bytes + y.wv().bytes + y.wo().bytes + y.gate().bytes + y.up().bytes
                    + y.down().bytes;
        }
        outputNorm = w.outputNorm();
        output = w.output();
        weightBytesPerToken = wb + output.bytes;
        int widest = Math.max(Math.max(dim, qDim), hid);
        x = k.alloc(4 * dim);
        xb = k.alloc(4 * widest);
        xq8 = k.alloc(q8Bytes(widest));
        xq8k = k.alloc(q8KBytes(widest));
        q = k.alloc(4 * qDim);
        att = k.alloc(4 * qDim);
        tmp = k.alloc(4 * dim);
        hb = k.alloc(4 * hid);
        hb2 = k.alloc(4 * hid);
        hq8 = k.alloc(q8Bytes(hid));
        hq8k = k.alloc(q8KBytes(hid));
        logits = k.alloc(4 * vocab);
        cosSin = k.alloc(4 * c.headDim());
        k.reserveRowScratch(widest);
        int qIn = Math.max(dim, qDim);
        q8Stride = q8Bytes(qIn);
        q8KStride = q8KBytes(qIn);
        hq8Stride = q8Bytes(hid);
        hq8KStride = q8KBytes(hid);
        bx = k.alloc(4 * dim * MAX_BATCH);
        bxb = k.alloc(4 * dim * MAX_BATCH);
        bq = k.alloc(4 * qDim * MAX_BATCH);
        batt = k.alloc(4 * qDim * MAX_BATCH);
        btmp = k.alloc(4 * dim * MAX_BATCH);
        bhb = k.alloc(4 * hid * MAX_BATCH);
        bhb2 = k.alloc(4 * hid * MAX_BATCH);
        bxq8 = k.alloc(q8Stride * MAX_BATCH);
        bxq8k = k.alloc(q8KStride * MAX_BATCH);
        bhq8 = k.alloc(hq8Stride * MAX_BATCH);
        bhq8k = k.alloc(hq8KStride * MAX_BATCH);
        bCosSin = k.alloc(4 * c.headDim() * MAX_BATCH);
        k.reserveBatch(MAX_BATCH, widest);
        scratchMark = k.mark();
    }

    private static int q8Bytes(int n) {
        return (n + 31) / 32 * 40;
    }

    private static int q8KBytes(int n) {
        return (n + 255) / 256 * 292;
    }

    /** The matrix in place; Q4_0 is repacked into the kernels' 4-row interleaved layout where they have it. */
    private Mat mat(int base, GgufTensorInfo t, int cols, int rows) {
        int p = ptr(base, t);
        boolean x4 = t.type() == GgmlType.Q4_0 && k.hasQ4_0x4() && rows % 4 == 0 && cols % 128 == 0;
        boolean noSubnormal = false;
        if (x4) {
            noSubnormal = k.repackQ4_0x4(p, rows, cols) == 0;
            anyX4 = true;
        }
        return new Mat(p, t.type(), cols, rows, t.byteSize(), x4, noSubnormal);
    }

    private static int ptr(int base, GgufTensorInfo t) {
        long p = base + t.offset();
        if (p > Integer.MAX_VALUE - t.byteSize()) {
            throw new GgufFormatException("tensor " + t.name() + " lies beyond 2 GiB of kernel memory");
        }
        return (int) p;
    }

    /** Token {@code token}'s embedding row as f32 at {@code out}. */
    private void embed(int token, int out) {
        if (tokenEmbd.x4) {
            k.dequantRowQ4_0x4(tokenEmbd.ptr, token, c.dim(), out);
        } else {
            k.dequantRow(tokenEmbd.type.id(), tokenEmbd.ptr, token, c.dim(), out);
        }
    }

    /** An f32 vector: in place when the tensor is F32, else dequantized once into the kernel memory. */
    private int vec(int base, GgufTensorInfo t, int n) {
        if (t.type() == GgmlType.F32) {
            return ptr(base, t);
        }
        int out = k.alloc(4 * n);
        k.dequantRow(t.type().id(), ptr(base, t), 0, n, out);
        return out;
    }

    /** The kernel build, with "+q4_0x4" when Q4_0 matrices run in the 4-row interleaved layout. */
    @Override
    public String name() {
        return k.variant() + (anyX4 ? "+q4_0x4" : "");
    }

    @Override
    public int threads() {
        return k.threads();
    }

    @Override
    public LlamaConfig config() {
        return c;
    }

    @Override
    public Tokenizer tokenizer() {
        return w.tokenizer();
    }

    @Override
    public void begin(int positions) {
        if (positions > c.contextLength()) {
            throw new ContextLengthExceededException("state for " + positions + " positions exceeds the context length "
                    + c.contextLength());
        }
        if (positions <= capacity) {
            return;
        }
        k.release(scratchMark);
        long bytes = 4L * positions * c.kvDim();
        if (bytes > Integer.MAX_VALUE / 2) {
            throw new ContextLengthExceededException("a KV cache of " + positions + " positions does not fit the kernel memory");
        }
        kCache = new int[c.layers()];
        vCache = new int[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            kCache[l] = k.alloc((int) bytes);
            vCache[l] = k.alloc((int) bytes);
        }
        scores = k.alloc(4 * positions * c.heads()); // one run per head: heads may run on different threads
        capacity = positions;
    }

    /**
     * y = W·x; {@code xq} / {@code xqk} are the Q8_0 / Q8_K buffers for x, filled lazily ({@code quantized[0]} /
     * {@code quantized[1]} tell: a Q4_K_M layer mixes Q4_K and Q6_K matrices on one input).
     */
    private void matVec(Mat w, int xPtr, int xq, int xqk, boolean[] quantized, int out) {
        switch (w.type) {
            case F32 -> k.matvecF32(w.ptr, xPtr, out, w.rows, w.cols);
            case Q4_0, Q8_0 -> {
                if (!quantized[0]) {
                    k.quantizeQ8_0(xPtr, xq, w.cols);
                    quantized[0] = true;
                }
                if (w.x4) {
                    k.matvecQ4_0x4(w.ptr, xq, out, w.rows, w.cols, w.x4NoSubnormal);
                } else if (w.type == GgmlType.Q4_0) {
                    k.matvecQ4_0(w.ptr, xq, out, w.rows, w.cols);
                } else {
                    k.matvecQ8_0(w.ptr, xq, out, w.rows, w.cols);
                }
            }
            case Q4_K, Q6_K -> {
                if (w.cols % 256 != 0) {
                    k.matvecDequant(w.type.id(), w.ptr, xPtr, out, w.rows, w.cols);
                    return;
                }
                if (!quantized[1]) {
                    k.quantizeQ8_K(xPtr, xqk, w.cols);
                    quantized[1] = true;
                }
                if (w.type == GgmlType.Q4_K) {
                    k.matvecQ4_K(w.ptr, xqk, out, w.rows, w.cols);
                } else {
                    k.matvecQ6_K(w.ptr, xqk, out, w.rows, w.cols);
                }
            }
            default -> k.matvecDequant(w.type.id(), w.ptr, xPtr, out, w.rows, w.cols);
        }
    }

    @Override
    public int maxPrefillBatch() {
        return MAX_BATCH;
    }

    /**
     * The batch runs the weights once per matrix (mat-mul kernels that equal per-token mat-vecs bit for bit) and
     * everything else per token with the kernels of {@link #step}, so KV cache and logits do not depend on how the
     * prompt was split into batches.
     */
    @Override
    public void prefill(int[] tokens, int count, int pos, int outputMode, StepCallback cb) {
        if (count == 1) {
            step(tokens[0], pos, outputMode, cb);
            return;
        }
        answer(outputMode, cb, () -> {
            if (count < 1 || count > tokens.length) {
                throw new IllegalArgumentException("prefill of " + count + " tokens from an array of " + tokens.length);
            }
            int argmax = -1;
            for (int done = 0; done < count; done += MAX_BATCH) { // a longer call runs in batches of MAX_BATCH
                int n = Math.min(MAX_BATCH, count - done);
                argmax = forwardBatch(Arrays.copyOfRange(tokens, done, done + n), n, pos + done,
                        done + n == count ? outputMode : OUT_NONE);
            }
            return argmax;
        });
    }

    @Override
    public void step(int token, int pos, int outputMode, StepCallback cb) {
        answer(outputMode, cb, () -> forward(token, pos, outputMode));
    }

    /** Runs {@code pass} (returns the argmax or -1) and answers {@code cb}: the logits too for OUT_LOGITS. */
    private void answer(int outputMode, StepCallback cb, IntSupplier pass) {
        int argmax;
        float[] out = null;
        try {
            argmax = pass.getAsInt();
            if (outputMode == OUT_LOGITS) {
                out = new float[c.vocabSize()];
                k.readFloats(logits, out, out.length);
                argmax = Sampler.argmax(out);
            }
        } catch (RuntimeException e) {
            cb.done(-1, null, String.valueOf(e.getMessage()));
            return;
        }
        cb.done(argmax, out, null);
    }

    /** One token; returns the argmax (OUT_ARGMAX), else -1; the logits stay in the memory. */
    int forward(int token, int pos, int outputMode) {
        if (token < 0 || token >= c.vocabSize()) {
            throw new IllegalArgumentException("token id " + token + " outside the vocabulary of " + c.vocabSize());
        }
        if (pos < 0 || pos >= capacity) {
            throw new ContextLengthExceededException("position " + pos + " outside the KV cache of " + capacity);
        }
        int dim = c.dim();
        int hd = c.headDim();
        int kvDim = c.kvDim();
        int qDim = c.heads() * hd;
        int hid = c.hiddenDim();
        float eps = c.rmsEps();
        float[] table = new float[hd];
        rope.table(pos, table, 0);
        k.writeFloats(cosSin, table, hd);
        embed(token, x);
        boolean[] qx = new boolean[2];
        for (int l = 0; l < layers.size(); l++) {
            LlamaWeights.Layer<Mat, Integer> y = layers.get(l);
            int kPos = kCache[l] + 4 * pos * kvDim;
            int vPos = vCache[l] + 4 * pos * kvDim;
            k.rmsnorm(x, y.attnNorm(), xb, dim, eps);
            clear(qx);
            inJobGroup(() -> {
                matVec(y.wq(), xb, xq8, xq8k, qx, q);
                matVec(y.wk(), xb, xq8, xq8k, qx, kPos);
                matVec(y.wv(), xb, xq8, xq8k, qx, vPos);
            });
            k.rope(q, c.heads(), hd, cosSin);
            k.rope(kPos, c.kvHeads(), hd, cosSin);
            k.attention(q, kCache[l], vCache[l], att, scores, c.heads(), c.kvHeads(), hd, pos + 1,
                    (float) (1.0 / Math.sqrt(hd)));
            clear(qx);
            matVec(y.wo(), att, xq8, xq8k, qx, tmp);
            k.add(x, tmp, dim);
            k.rmsnorm(x, y.ffnNorm(), xb, dim, eps);
            clear(qx);
            inJobGroup(() -> {
                matVec(y.gate(), xb, xq8, xq8k, qx, hb);
                matVec(y.up(), xb, xq8, xq8k, qx, hb2);
            });
            k.swiglu(hb, hb2, hb, hid);
            clear(qx);
            matVec(y.down(), hb, hq8, hq8k, qx, tmp);
            k.add(x, tmp, dim);
        }
        steps++;
        if (outputMode == OUT_NONE) {
            return -1;
        }
        return head(x, outputMode);
    }

    /** Final norm and LM head on the hidden state at {@code xPtr}: the argmax (OUT_ARGMAX), else -1. */
    private int head(int xPtr, int outputMode) {
        tokens++;
        boolean[] qx = new boolean[2];
        k.rmsnorm(xPtr, outputNorm, xb, c.dim(), c.rmsEps());
        matVec(output, xb, xq8, xq8k, qx, logits);
        return outputMode == OUT_ARGMAX ? k.argmax(logits, c.vocabSize()) : -1;
    }

    /** Tokens {@code tokens[0..n)} at positions pos..pos+n-1; output as {@link #forward} for the last one. */
    int forwardBatch(int[] tokens, int n, int pos, int outputMode) {
        if (n < 1 || n > MAX_BATCH || n > tokens.length) {
            throw new IllegalArgumentException("prefill batch of " + n + " tokens (1.." + MAX_BATCH + ")");
        }
        for (int t = 0; t < n; t++) {
            if (tokens[t] < 0 || tokens[t] >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[t] + " outside the vocabulary of " + c.vocabSize());
            }
        }
        if (pos < 0 || pos + n > capacity) {
            throw new ContextLengthExceededException("positions " + pos + ".." + (pos + n - 1) + " outside the KV cache of "
                    + capacity);
        }
        int dim = c.dim();
        int hd = c.headDim();
        int kvDim = c.kvDim();
        int qDim = c.heads() * hd;
        int hid = c.hiddenDim();
        float eps = c.rmsEps();
        float[] table = new float[hd * n];
        for (int t = 0; t < n; t++) {
            rope.table(pos + t, table, t * hd);
        }
        k.writeFloats(bCosSin, table, hd * n);
        for (int t = 0; t < n; t++) {
            embed(tokens[t], bx + 4 * dim * t);
        }
        boolean[] qx = new boolean[2];
        float scale = (float) (1.0 / Math.sqrt(hd));
        for (int l = 0; l < layers.size(); l++) {
            LlamaWeights.Layer<Mat, Integer> y = layers.get(l);
            int kPos = kCache[l] + 4 * pos * kvDim;
            int vPos = vCache[l] + 4 * pos * kvDim;
            for (int t = 0; t < n; t++) {
                k.rmsnorm(bx + 4 * dim * t, y.attnNorm(), bxb + 4 * dim * t, dim, eps);
            }
            clear(qx);
            inJobGroup(() -> {
                matMul(y.wq(), n, bxb, 4 * dim, bxq8, q8Stride, bxq8k, q8KStride, qx, bq, 4 * qDim);
                matMul(y.wk(), n, bxb, 4 * dim, bxq8, q8Stride, bxq8k, q8KStride, qx, kPos, 4 * kvDim);
                matMul(y.wv(), n, bxb, 4 * dim, bxq8, q8Stride, bxq8k, q8KStride, qx, vPos, 4 * kvDim);
            });
            for (int t = 0; t < n; t++) {
                k.rope(bq + 4 * qDim * t, c.heads(), hd, bCosSin + 4 * hd * t);
                k.rope(kPos + 4 * kvDim * t, c.kvHeads(), hd, bCosSin + 4 * hd * t);
            }
            for (int t = 0; t < n; t++) {
                k.attention(bq + 4 * qDim * t, kCache[l], vCache[l], batt + 4 * qDim * t, scores, c.heads(),
                        c.kvHeads(), hd, pos + t + 1, scale);
            }
            clear(qx);
            matMul(y.wo(), n, batt, 4 * qDim, bxq8, q8Stride, bxq8k, q8KStride, qx, btmp, 4 * dim);
            k.add(bx, btmp, dim * n);
            for (int t = 0; t < n; t++) {
                k.rmsnorm(bx + 4 * dim * t, y.ffnNorm(), bxb + 4 * dim * t, dim, eps);
            }
            clear(qx);
            inJobGroup(() -> {
                matMul(y.gate(), n, bxb, 4 * dim, bxq8, q8Stride, bxq8k, q8KStride, qx, bhb, 4 * hid);
                matMul(y.up(), n, bxb, 4 * dim, bxq8, q8Stride, bxq8k, q8KStride, qx, bhb2, 4 * hid);
            });
            for (int t = 0; t < n; t++) {
                k.swiglu(bhb + 4 * hid * t, bhb2 + 4 * hid * t, bhb + 4 * hid * t, hid);
            }
            clear(qx);
            matMul(y.down(), n, bhb, 4 * hid, bhq8, hq8Stride, bhq8k, hq8KStride, qx, btmp, 4 * dim);
            k.add(bx, btmp, dim * n);
        }
        steps += n;
        if (outputMode == OUT_NONE) {
            return -1;
        }
        return head(bx + 4 * dim * (n - 1), outputMode);
    }

    /**
     * n mat-vecs of w: token t reads f32 at {@code xs + t*xStride}, writes at {@code out + t*outStride}. Q4_0/Q8_0
     * and Q4_K/Q6_K run the mat-mul kernels on per-token quantized rows (filled lazily, as {@link #matVec}); other
     * types run the per-token mat-vec.
     */
    private void matMul(Mat w, int n, int xs, int xStride, int xq, int xqStride, int xqk, int xqkStride,
                        boolean[] quantized, int out, int outStride) {
        boolean k8 = w.type == GgmlType.Q4_0 || w.type == GgmlType.Q8_0;
        boolean kk = (w.type == GgmlType.Q4_K || w.type == GgmlType.Q6_K) && w.cols % 256 == 0;
        if (k8) {
            if (!quantized[0]) {
                for (int t = 0; t < n; t++) {
                    k.quantizeQ8_0(xs + t * xStride, xq + t * xqStride, w.cols);
                }
                quantized[0] = true;
            }
            if (w.x4) {
                k.matmulQ4_0x4(w.ptr, xq, out, w.rows, w.cols, n, xqStride, outStride);
            } else if (w.type == GgmlType.Q4_0) {
                k.matmulQ4_0(w.ptr, xq, out, w.rows, w.cols, n, xqStride, outStride);
            } else {
                k.matmulQ8_0(w.ptr, xq, out, w.rows, w.cols, n, xqStride, outStride);
            }
        } else if (kk) {
            if (!quantized[1]) {
                for (int t = 0; t < n; t++) {
                    k.quantizeQ8_K(xs + t * xStride, xqk + t * xqkStride, w.cols);
                }
                quantized[1] = true;
            }
            if (w.type == GgmlType.Q4_K) {
                k.matmulQ4_K(w.ptr, xqk, out, w.rows, w.cols, n, xqkStride, outStride);
            } else {
                k.matmulQ6_K(w.ptr, xqk, out, w.rows, w.cols, n, xqkStride, outStride);
            }
        } else {
            boolean[] none = new boolean[2];
            for (int t = 0; t < n; t++) {
                clear(none);
                matVec(w, xs + t * xStride, xq + t * xqStride, xqk + t * xqkStride, none, out + t * outStride);
            }
        }
    }

    /** Runs {@code products} (independent mat-vecs or mat-muls) as one job group of the kernels, closed even on failure. */
    private void inJobGroup(Runnable products) {
        k.beginJobGroup();
        try {
            products.run();
        } finally {
            k.endJobGroup();
        }
    }

    private static void clear(boolean[] quantized) {
        quantized[0] = false;
        quantized[1] = false;
    }

    @Override
    public Map<String, Object> counters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kernel_variant", k.variant());
        m.put("weight_bytes_per_token", weightBytesPerToken);
        m.put("bytes_read_back_per_token", 4);
        m.put("forward_steps", steps);
        m.put("tokens_with_output", tokens);
        return m;
    }

    @Override
    public void close() {
        k.release(scratchMark);
        capacity = 0;
    }
}
