package io.earnidle.node.llama;

import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.gguf.GgufFormatException;
import io.earnidle.node.gguf.GgufTensorInfo;
import io.earnidle.node.tokenizer.Tokenizer;
import io.earnidle.node.llama.ops.JavaTensorOps;
import io.earnidle.node.llama.ops.TensorOps;
import io.earnidle.node.llama.ops.WeightMatrix;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A Llama model whose weight matrices are views on the GGUF bytes (any supported tensor type, dequantized row by row
 * inside {@link TensorOps#matVec}) and a forward pass matching llama.cpp's graph.
 */
public final class LlamaModel {
    private final LlamaConfig c;
    private final Tokenizer tokenizer;
    private final TensorOps ops;
    private final WeightMatrix tokenEmbd;  // [vocab][dim]
    private final float[][] attnNorm;      // [layer][dim]
    private final WeightMatrix[] wq;       // [layer]: heads*headDim rows of dim
    private final WeightMatrix[] wk;       // kvDim rows of dim
    private final WeightMatrix[] wv;       // kvDim rows of dim
    private final WeightMatrix[] wo;       // dim rows of heads*headDim
    private final float[][] ffnNorm;       // [layer][dim]
    private final WeightMatrix[] wGate;    // hidden rows of dim
    private final WeightMatrix[] wUp;      // hidden rows of dim
    private final WeightMatrix[] wDown;    // dim rows of hidden
    private final float[] outputNorm;      // [dim]
    private final WeightMatrix output;     // [vocab][dim]; token_embd when the output is tied
    private final boolean tiedOutput;
    private final float[] ropeFreqFactors; // [headDim/2] from rope_freqs.weight, or null
    private final double[] invFreq;        // [headDim/2]

    private LlamaModel(GgufFile f, TensorOps ops) {
        this.ops = ops;
        this.tokenizer = Tokenizer.fromGguf(f);
        this.c = LlamaConfig.fromGguf(f, tokenizer.vocabSize());
        if (c.vocabSize() != tokenizer.vocabSize()) {
            throw new GgufFormatException("llama.vocab_size " + c.vocabSize() + " != " + tokenizer.vocabSize() + " tokens");
        }
        int dim = c.dim();
        int qDim = c.heads() * c.headDim();
        int kv = c.kvDim();
        int hid = c.hiddenDim();
        int vocab = c.vocabSize();
        tokenEmbd = matrix(f, "token_embd.weight", dim, vocab);
        int n = c.layers();
        attnNorm = new float[n][];
        wq = new WeightMatrix[n];
        wk = new WeightMatrix[n];
        wv = new WeightMatrix[n];
        wo = new WeightMatrix[n];
        ffnNorm = new float[n][];
        wGate = new WeightMatrix[n];
        wUp = new WeightMatrix[n];
        wDown = new WeightMatrix[n];
        for (int l = 0; l < n; l++) {
            String p = "blk." + l + ".";
            attnNorm[l] = vector(f, p + "attn_norm.weight", dim);
            wq[l] = matrix(f, p + "attn_q.weight", dim, qDim);
            wk[l] = matrix(f, p + "attn_k.weight", dim, kv);
            wv[l] = matrix(f, p + "attn_v.weight", dim, kv);
            wo[l] = matrix(f, p + "attn_output.weight", qDim, dim);
            ffnNorm[l] = vector(f, p + "ffn_norm.weight", dim);
            wGate[l] = matrix(f, p + "ffn_gate.weight", dim, hid);
            wUp[l] = matrix(f, p + "ffn_up.weight", dim, hid);
            wDown[l] = matrix(f, p + "ffn_down.weight", hid, dim);
        }
        outputNorm = vector(f, "output_norm.weight", dim);
        tiedOutput = f.tensor("output.weight") == null;
        output = tiedOutput ? tokenEmbd : matrix(f, "output.weight", dim, vocab);
        int half = c.headDim() / 2;
        ropeFreqFactors = f.tensor("rope_freqs.weight") == null ? null : vector(f, "rope_freqs.weight", half);
        invFreq = new double[half];
        for (int i = 0; i < half; i++) {
            invFreq[i] = DetMath.pow(c.ropeTheta(), -2.0 * i / c.headDim());
            if (ropeFreqFactors != null) {
                float ff = ropeFreqFactors[i];
                if (!(ff > 0) || Float.isInfinite(ff)) {
                    throw new GgufFormatException("rope_freqs.weight[" + i + "] = " + ff + " is not a positive finite factor");
                }
                invFreq[i] /= ff;
            }
        }
    }

    private static GgufTensorInfo tensor(GgufFile f, String name, long... ne) {
        GgufTensorInfo t = f.tensor(name);
        if (t == null) {
            throw new GgufFormatException("missing tensor " + name);
        }
        if (!Arrays.equals(t.ne(), ne)) {
            throw new GgufFormatException("tensor " + name + " has shape " + Arrays.toString(t.ne()) + ", expected "
                    + Arrays.toString(ne));
        }
        return t;
    }

    private static WeightMatrix matrix(GgufFile f, String name, long cols, long rows) {
        return WeightMatrix.of(tensor(f, name, cols, rows), f);
    }

    private static float[] vector(GgufFile f, String name, long n) {
        return f.readFloats(tensor(f, name, n));
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

    public TensorOps ops() {
        return ops;
    }

    public boolean tiedOutput() {
        return tiedOutput;
    }

    /** The llama3 RoPE frequency divisors from rope_freqs.weight, or null when the file has none. */
    public float[] ropeFreqFactors() {
        return ropeFreqFactors == null ? null : ropeFreqFactors.clone();
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
        return tokenizer;
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
        }
    }

    private void rope(float[] v, int off, int pos) {
        for (int i = 0; i < invFreq.length; i++) {
            double theta = pos * invFreq[i];
            float cos = (float) DetMath.cos(theta);
            float sin = (float) DetMath.sin(theta);
            float a = v[off + 2 * i];
            float b = v[off + 2 * i + 1];
            v[off + 2 * i] = a * cos - b * sin;
            v[off + 2 * i + 1] = a * sin + b * cos;
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
        int qDim = c.heads() * hd;
        int group = c.heads() / c.kvHeads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] x = st.x;
        ops.dequantizeRow(tokenEmbd, token, x, 0);
        float[] kTmp = st.kTmp;
        float[] vTmp = st.vTmp;
        for (int l = 0; l < c.layers(); l++) {
            ops.rmsNorm(st.xb, x, attnNorm[l], c.rmsEps());
            ops.matVec(wq[l], st.xb, st.q);
            ops.matVec(wk[l], st.xb, kTmp);
            ops.matVec(wv[l], st.xb, vTmp);
            for (int h = 0; h < c.heads(); h++) {
                rope(st.q, h * hd, pos);
            }
            for (int h = 0; h < c.kvHeads(); h++) {
                rope(kTmp, h * hd, pos);
            }
            System.arraycopy(kTmp, 0, st.keys[l], pos * kvDim, kvDim);
            System.arraycopy(vTmp, 0, st.values[l], pos * kvDim, kvDim);
            float[] kc = st.keys[l];
            float[] vc = st.values[l];
            for (int h = 0; h < c.heads(); h++) {
                int qo = h * hd;
                int kvo = (h / group) * hd;
                float max = Float.NEGATIVE_INFINITY;
                for (int t = 0; t <= pos; t++) {
                    float s = 0f;
                    int ko = t * kvDim + kvo;
                    for (int i = 0; i < hd; i++) {
                        s += st.q[qo + i] * kc[ko + i];
                    }
                    s *= scale;
                    st.scores[t] = s;
                    if (s > max) {
                        max = s;
                    }
                }
                float sum = 0f;
                for (int t = 0; t <= pos; t++) {
                    float e = DetMath.expf(st.scores[t] - max);
                    st.scores[t] = e;
                    sum += e;
                }
                float inv = 1f / sum;
                for (int i = 0; i < hd; i++) {
                    st.att[qo + i] = 0f;
                }
                for (int t = 0; t <= pos; t++) {
                    float p = st.scores[t] * inv;
                    int vo = t * kvDim + kvo;
                    for (int i = 0; i < hd; i++) {
                        st.att[qo + i] += p * vc[vo + i];
                    }
                }
            }
            ops.matVec(wo[l], st.att, st.attOut);
            for (int i = 0; i < dim; i++) {
                x[i] += st.attOut[i];
            }
            ops.rmsNorm(st.xb, x, ffnNorm[l], c.rmsEps());
            ops.matVec(wGate[l], st.xb, st.hb);
            ops.matVec(wUp[l], st.xb, st.hb2);
            for (int i = 0; i < c.hiddenDim(); i++) {
                float g = st.hb[i];
                st.hb[i] = g / (1f + DetMath.expf(-g)) * st.hb2[i];
            }
            ops.matVec(wDown[l], st.hb, st.attOut);
            for (int i = 0; i < dim; i++) {
                x[i] += st.attOut[i];
            }
        }
        if (!wantLogits) {
            return null;
        }
        ops.rmsNorm(st.xb, x, outputNorm, c.rmsEps());
        ops.matVec(output, st.xb, st.logits);
        return st.logits;
    }

    /** Token ids of the request's prompt, validated. */
    public int[] promptIds(GenerationRequest r) {
        if ((r.prompt() == null) == (r.promptIds() == null)) {
            throw new IllegalArgumentException("exactly one of prompt and prompt_ids must be given");
        }
        int[] ids = r.prompt() != null ? tokenizer.encode(r.prompt(), r.addBos()) : r.promptIds().clone();
        if (ids.length == 0) {
            throw new IllegalArgumentException("the prompt is empty");
        }
        for (int id : ids) {
            if (id < 0 || id >= c.vocabSize()) {
                throw new IllegalArgumentException("prompt token id " + id + " outside the vocabulary of " + c.vocabSize());
            }
        }
        return ids;
    }

    public GenerationResult generate(GenerationRequest r) {
        return generate(r, null);
    }

    /**
     * As {@link #generate(GenerationRequest)}; {@code firstLogits}, when not null, receives a copy of the logits
     * of the first generated position (before any repetition penalty).
     */
    public GenerationResult generate(GenerationRequest r, java.util.function.Consumer<float[]> firstLogits) {
        if (r.maxTokens() < 1) {
            throw new IllegalArgumentException("max_tokens must be >= 1, got " + r.maxTokens());
        }
        Sampling sampling = r.sampling() == null ? Sampling.greedy() : r.sampling();
        Sampler sampler = new Sampler(sampling);
        int[] prompt = promptIds(r);
        long total = (long) prompt.length + r.maxTokens();
        if (total > c.contextLength()) {
            throw new ContextLengthExceededException("prompt of " + prompt.length + " tokens plus max_tokens "
                    + r.maxTokens() + " exceeds the context length " + c.contextLength());
        }
        State st = new State((int) total);
        int[] history = new int[(int) total];
        System.arraycopy(prompt, 0, history, 0, prompt.length);
        long t0 = System.nanoTime();
        float[] logits = null;
        for (int i = 0; i < prompt.length; i++) {
            logits = forward(st, prompt[i], i, i == prompt.length - 1);
        }
        long t1 = System.nanoTime();
        if (firstLogits != null) {
            firstLogits.accept(logits.clone());
        }
        int[] out = new int[r.maxTokens()];
        int n = 0;
        int pos = prompt.length;
        boolean stopped = false;
        String stopText = null;
        while (n < r.maxTokens()) {
            int next = sampler.sample(logits, history, prompt.length + n);
            out[n++] = next;
            history[prompt.length + n - 1] = next;
            if (tokenizer.isEndOfGeneration(next)) {
                stopped = true;
                break;
            }
            if (!sampling.stop().isEmpty()) {
                String sofar = tokenizer.decode(Arrays.copyOf(out, n));
                int cut = firstStop(sofar, sampling.stop());
                if (cut >= 0) {
                    stopText = sofar.substring(0, cut);
                    break;
                }
            }
            if (n == r.maxTokens()) {
                break;
            }
            logits = forward(st, next, pos++, true);
        }
        long t2 = System.nanoTime();
        int[] ids = Arrays.copyOf(out, n);
        String text = stopText != null ? stopText : tokenizer.decode(stopped ? Arrays.copyOf(ids, n - 1) : ids);
        return new GenerationResult(ids, text, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    }

    /** Index of the earliest occurrence of any stop string in {@code text}, or -1. */
    public static int firstStop(String text, java.util.List<String> stops) {
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }
}
