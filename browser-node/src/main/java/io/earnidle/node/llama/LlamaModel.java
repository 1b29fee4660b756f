package io.earnidle.node.llama;

import io.earnidle.node.llama.ops.DetMath;
import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.gguf.GgufTensorInfo;
import io.earnidle.node.tokenizer.Tokenizer;
import io.earnidle.node.llama.ops.JavaTensorOps;
import io.earnidle.node.llama.ops.TensorOps;
import io.earnidle.node.llama.ops.WeightMatrix;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * A Llama model whose weight matrices are views on the GGUF bytes (any supported tensor type, dequantized row by row
 * inside {@link TensorOps#matVec}) and a forward pass matching llama.cpp's graph. The weights, config and RoPE
 * tables come from {@link LlamaWeights}, the loader the WASM-SIMD engine shares.
 */
public final class LlamaModel {
    private final LlamaWeights<WeightMatrix, float[]> w;
    private final LlamaConfig c;
    private final TensorOps ops;
    private final Rope rope;

    private LlamaModel(GgufFile f, TensorOps ops) {
        this.ops = ops;
        this.w = LlamaWeights.load(f, new LlamaWeights.Placement<>() {
            @Override
            public WeightMatrix matrix(GgufTensorInfo t, int cols, int rows) {
                return WeightMatrix.of(t, f);
            }

            @Override
            public float[] vector(GgufTensorInfo t, int n) {
                return f.readFloats(t);
            }

            @Override
            public float[] read(float[] vector, int n) {
                return vector;
            }
        });
        this.c = w.config();
        this.rope = w.rope();
    }

    /** JVM only: maps the file read-only (files over 2 GiB: the header and each tensor mapped separately). */
    public static LlamaModel load(java.nio.file.Path gguf) throws IOException {
        return load(gguf, new JavaTensorOps());
    }

    /** JVM only: maps the file read-only and computes with {@code ops}. */
    public static LlamaModel load(java.nio.file.Path gguf, TensorOps ops) throws IOException {
        return load(gguf, ops, Integer.MAX_VALUE);
    }

    /** Files larger than {@code singleMapLimit} bytes are mapped per tensor (package-private for tests). */
    static LlamaModel load(java.nio.file.Path gguf, TensorOps ops, long singleMapLimit) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(gguf,
                java.nio.file.StandardOpenOption.READ)) {
            long size = ch.size();
            java.nio.channels.FileChannel.MapMode ro = java.nio.channels.FileChannel.MapMode.READ_ONLY;
            if (size <= singleMapLimit) {
                return load(ch.map(ro, 0, size), ops);
            }
            ByteBuffer header = ch.map(ro, 0, Math.min(size, Integer.MAX_VALUE));
            GgufFile f = GgufFile.read(header, size, (offset, length) -> {
                try {
                    return ch.map(ro, offset, length);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException("cannot map " + length + " bytes at " + offset + " of " + gguf, e);
                }
            });
            // the model maps every tensor while the channel is open; mappings stay valid after it closes
            return new LlamaModel(f, ops);
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    public static LlamaModel load(ByteBuffer gguf) {
        return load(gguf, new JavaTensorOps());
    }

    public static LlamaModel load(ByteBuffer gguf, TensorOps ops) {
        return new LlamaModel(GgufFile.read(gguf), ops);
    }

    public boolean tiedOutput() {
        return w.tiedOutput();
    }

    /** The llama3 RoPE frequency divisors from rope_freqs.weight, or null when the file has none. */
    public float[] ropeFreqFactors() {
        return w.ropeFreqFactors();
    }

    public LlamaConfig config() {
        return c;
    }

    public int vocabSize() {
        return c.vocabSize();
    }

    public int contextLength() {
        return c.contextLength();
    }

    public Tokenizer tokenizer() {
        return w.tokenizer();
    }

    /** Per-generation activations and KV cache for up to {@code capacity} positions. */
    public final class State {
        final int capacity;
        final float[][] keys;
        final float[][] values;
        final float[] x;
        final float[] xb;
        final float[] q;
        final float[] att;
        final float[] attOut;
        final float[] hb;
        final float[] hb2;
        final float[] scores;
        final float[] logits;
        final float[] kTmp;
        final float[] vTmp;
        final float[] ropeTable;

        public State(int capacity) {
            if (capacity > c.contextLength()) {
                throw new ContextLengthExceededException("state for " + capacity + " positions exceeds the context length "
                        + c.contextLength());
            }
            this.capacity = capacity;
            keys = new float[c.layers()][capacity * c.kvDim()];
            values = new float[c.layers()][capacity * c.kvDim()];
            x = new float[c.dim()];
            xb = new float[c.dim()];
            q = new float[c.heads() * c.headDim()];
            att = new float[c.heads() * c.headDim()];
            attOut = new float[c.dim()];
            hb = new float[c.hiddenDim()];
            hb2 = new float[c.hiddenDim()];
            scores = new float[capacity];
            logits = new float[c.vocabSize()];
            kTmp = new float[c.kvDim()];
            vTmp = new float[c.kvDim()];
            ropeTable = new float[c.headDim()];
        }
    }

    /** Runs one token at {@code pos}; fills and returns {@code st.logits} when {@code wantLogits}. */
    public float[] forward(State st, int token, int pos, boolean wantLogits) {
        if (token < 0 || token >= c.vocabSize()) {
            throw new IllegalArgumentException("token id " + token + " outside the vocabulary of " + c.vocabSize());
        }
        if (pos < 0 || pos >= st.capacity) {
            throw new ContextLengthExceededException("position " + pos + " outside the KV cache of " + st.capacity);
        }
        int dim = c.dim();
        int hd = c.headDim();
        int kvDim = c.kvDim();
        float[] x = st.x;
        ops.dequantizeRow(w.tokenEmbd(), token, x, 0);
        float[] ropeTable = st.ropeTable;
        rope.table(pos, ropeTable, 0);
        float[] kTmp = st.kTmp;
        float[] vTmp = st.vTmp;
        for (int l = 0; l < c.layers(); l++) {
            LlamaWeights.Layer<WeightMatrix, float[]> y = w.layers().get(l);
            ops.rmsNorm(st.xb, x, y.attnNorm(), c.rmsEps());
            ops.matVec(y.wq(), st.xb, st.q);
            ops.matVec(y.wk(), st.xb, kTmp);
            ops.matVec(y.wv(), st.xb, vTmp);
            for (int h = 0; h < c.heads(); h++) {
                rope.rotate(st.q, h * hd, ropeTable);
            }
            for (int h = 0; h < c.kvHeads(); h++) {
                rope.rotate(kTmp, h * hd, ropeTable);
            }
            System.arraycopy(kTmp, 0, st.keys[l], pos * kvDim, kvDim);
            System.arraycopy(vTmp, 0, st.values[l], pos * kvDim, kvDim);
            attend(st, l, pos, st.q, 0, st.att, 0);
            ops.matVec(y.wo(), st.att, st.attOut);
            for (int i = 0; i < dim; i++) {
                x[i] += st.attOut[i];
            }
            ops.rmsNorm(st.xb, x, y.ffnNorm(), c.rmsEps());
            ops.matVec(y.gate(), st.xb, st.hb);
            ops.matVec(y.up(), st.xb, st.hb2);
            ops.swiGlu(st.hb, st.hb2, c.hiddenDim());
            ops.matVec(y.down(), st.hb, st.attOut);
            for (int i = 0; i < dim; i++) {
                x[i] += st.attOut[i];
            }
        }
        if (!wantLogits) {
            return null;
        }
        ops.rmsNorm(st.xb, x, w.outputNorm(), c.rmsEps());
        ops.matVec(w.output(), st.xb, st.logits);
        return st.logits;
    }

    /**
     * Attention of the query at {@code q[qo ..)} (all heads, already rotated) at position {@code pos} over layer
     * {@code l}'s cache up to and including {@code pos}, into {@code att[ao ..)}.
     */
    private void attend(State st, int l, int pos, float[] q, int qo, float[] att, int ao) {
        int hd = c.headDim();
        int kvDim = c.kvDim();
        int group = c.heads() / c.kvHeads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] kc = st.keys[l];
        float[] vc = st.values[l];
        float[] scores = st.scores;
        for (int h = 0; h < c.heads(); h++) {
            int qh = qo + h * hd;
            int ah = ao + h * hd;
            int kvo = (h / group) * hd;
            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t <= pos; t++) {
                float s = ops.dot(q, qh, kc, t * kvDim + kvo, hd) * scale;
                scores[t] = s;
                if (s > max) {
                    max = s;
                }
            }
            float sum = 0f;
            for (int t = 0; t <= pos; t++) {
                float e = DetMath.expf(scores[t] - max);
                scores[t] = e;
                sum += e;
            }
            float inv = 1f / sum;
            for (int i = 0; i < hd; i++) {
                att[ah + i] = 0f;
            }
            for (int t = 0; t <= pos; t++) {
                ops.axpy(scores[t] * inv, vc, t * kvDim + kvo, att, ah, hd);
            }
        }
    }

    /**
     * Runs {@code tokens[0 .. n)} at positions {@code pos .. pos+n-1} as one batch, filling the KV cache: every
     * matrix multiplies all n activations at once ({@link TensorOps#matMul}, so a batched kernel reads each weight
     * once per batch), attention runs per position over the cache up to it (causal). Writes the logits of batch rows
     * {@code [logitsFrom, n)} to {@code logits[(i - logitsFrom) * vocab ..]} (none when logitsFrom == n). With
     * {@link JavaTensorOps} this gives bit for bit what n calls of {@link #forward(State, int, int, boolean)} give;
     * teacher forcing (the backend's verifier) is one such pass over prompt + claimed output.
     */
    public void forward(State st, int[] tokens, int n, int pos, int logitsFrom, float[] logits) {
        if (n < 1 || logitsFrom < 0 || logitsFrom > n) {
            throw new IllegalArgumentException("batch of " + n + " tokens with logits from row " + logitsFrom);
        }
        if (pos < 0 || pos + n > st.capacity) {
            throw new ContextLengthExceededException("positions " + pos + ".." + (pos + n - 1)
                    + " outside the KV cache of " + st.capacity);
        }
        int dim = c.dim();
        int hd = c.headDim();
        int kvDim = c.kvDim();
        int qDim = c.heads() * hd;
        int hid = c.hiddenDim();
        float[] x = new float[n * dim];
        float[] xb = new float[n * dim];
        float[] q = new float[n * qDim];
        float[] k = new float[n * kvDim];
        float[] v = new float[n * kvDim];
        float[] att = new float[n * qDim];
        float[] o = new float[n * dim];
        float[] hb = new float[n * hid];
        float[] hb2 = new float[n * hid];
        float[] tables = new float[n * hd];
        for (int i = 0; i < n; i++) {
            if (tokens[i] < 0 || tokens[i] >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " outside the vocabulary of "
                        + c.vocabSize());
            }
            ops.dequantizeRow(w.tokenEmbd(), tokens[i], x, i * dim);
            rope.table(pos + i, tables, i * hd);
        }
        float[] table = st.ropeTable;
        for (int l = 0; l < c.layers(); l++) {
            LlamaWeights.Layer<WeightMatrix, float[]> y = w.layers().get(l);
            rmsNormRows(xb, x, 0, n, y.attnNorm(), st);
            ops.matMul(y.wq(), xb, n, q);
            ops.matMul(y.wk(), xb, n, k);
            ops.matMul(y.wv(), xb, n, v);
            for (int i = 0; i < n; i++) {
                System.arraycopy(tables, i * hd, table, 0, hd);
                for (int h = 0; h < c.heads(); h++) {
                    rope.rotate(q, i * qDim + h * hd, table);
                }
                for (int h = 0; h < c.kvHeads(); h++) {
                    rope.rotate(k, i * kvDim + h * hd, table);
                }
            }
            System.arraycopy(k, 0, st.keys[l], pos * kvDim, n * kvDim);
            System.arraycopy(v, 0, st.values[l], pos * kvDim, n * kvDim);
            // the last layer's output feeds only the logits: rows before logitsFrom need just their keys and values
            int lo = l == c.layers() - 1 ? logitsFrom : 0;
            int rows = n - lo;
            for (int i = lo; i < n; i++) {
                attend(st, l, pos + i, q, i * qDim, att, (i - lo) * qDim);
            }
            ops.matMul(y.wo(), att, rows, o);
            for (int i = 0; i < rows * dim; i++) {
                x[lo * dim + i] += o[i];
            }
            rmsNormRows(xb, x, lo, rows, y.ffnNorm(), st);
            ops.matMul(y.gate(), xb, rows, hb);
            ops.matMul(y.up(), xb, rows, hb2);
            ops.swiGlu(hb, hb2, rows * hid);
            ops.matMul(y.down(), hb, rows, o);
            for (int i = 0; i < rows * dim; i++) {
                x[lo * dim + i] += o[i];
            }
        }
        if (logitsFrom < n) {
            float[] xn = new float[(n - logitsFrom) * dim];
            rmsNormRows(xn, x, logitsFrom, n - logitsFrom, w.outputNorm(), st);
            ops.matMul(w.output(), xn, n - logitsFrom, logits);
        }
    }

    /**
     * {@link TensorOps#rmsNorm} of the {@code count} rows of x from row {@code from} (dim values each) into out's rows
     * 0 .. count, through st's row buffers.
     */
    private void rmsNormRows(float[] out, float[] x, int from, int count, float[] weight, State st) {
        int dim = c.dim();
        for (int i = 0; i < count; i++) {
            System.arraycopy(x, (from + i) * dim, st.x, 0, dim);
            ops.rmsNorm(st.xb, st.x, weight, c.rmsEps());
            System.arraycopy(st.xb, 0, out, i * dim, dim);
        }
    }

    /** Token ids of the request's prompt, validated ({@link GenerationRequest#promptTokens}). */
    public int[] promptIds(GenerationRequest r) {
        return r.promptTokens(w.tokenizer(), c.vocabSize());
    }

    /**
     * Runs the request to its end on this thread (the generation loop of every engine, {@link Generation}, over
     * this model's {@link LlamaModelSteps}).
     */
    public GenerationResult generate(GenerationRequest r) {
        return generate(r, null);
    }

    /**
     * As {@link #generate(GenerationRequest)}; {@code firstLogits}, when not null, receives a copy of the logits
     * of the first generated position (before any repetition penalty).
     */
    public GenerationResult generate(GenerationRequest r, Consumer<float[]> firstLogits) {
        return Generation.runNow(new LlamaModelSteps(this, "jvm"), r, firstLogits);
    }
}
