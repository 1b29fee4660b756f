package io.earnidle.node.llama;

import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.gguf.GgufFormatException;
import io.earnidle.node.gguf.GgufTensorInfo;
import io.earnidle.node.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** A Llama model with f32 (dequantized) weights and a plain-Java forward pass matching llama.cpp's graph. */
public final class LlamaModel {
    private final LlamaConfig c;
    private final Tokenizer tokenizer;
    private final float[] tokenEmbd;   // [vocab][dim]
    private final float[][] attnNorm;  // [layer][dim]
    private final float[][] wq;        // [layer][heads*headDim][dim]
    private final float[][] wk;        // [layer][kvDim][dim]
    private final float[][] wv;        // [layer][kvDim][dim]
    private final float[][] wo;        // [layer][dim][heads*headDim]
    private final float[][] ffnNorm;   // [layer][dim]
    private final float[][] wGate;     // [layer][hidden][dim]
    private final float[][] wUp;       // [layer][hidden][dim]
    private final float[][] wDown;     // [layer][dim][hidden]
    private final float[] outputNorm;  // [dim]
    private final float[] output;      // [vocab][dim]
    private final double[] invFreq;    // [headDim/2]

    private LlamaModel(GgufFile f) {
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
        tokenEmbd = weight(f, "token_embd.weight", dim, vocab);
        int n = c.layers();
        attnNorm = new float[n][];
        wq = new float[n][];
        wk = new float[n][];
        wv = new float[n][];
        wo = new float[n][];
        ffnNorm = new float[n][];
        wGate = new float[n][];
        wUp = new float[n][];
        wDown = new float[n][];
        for (int l = 0; l < n; l++) {
            String p = "blk." + l + ".";
            attnNorm[l] = weight(f, p + "attn_norm.weight", dim);
            wq[l] = weight(f, p + "attn_q.weight", dim, qDim);
            wk[l] = weight(f, p + "attn_k.weight", dim, kv);
            wv[l] = weight(f, p + "attn_v.weight", dim, kv);
            wo[l] = weight(f, p + "attn_output.weight", qDim, dim);
            ffnNorm[l] = weight(f, p + "ffn_norm.weight", dim);
            wGate[l] = weight(f, p + "ffn_gate.weight", dim, hid);
            wUp[l] = weight(f, p + "ffn_up.weight", dim, hid);
            wDown[l] = weight(f, p + "ffn_down.weight", hid, dim);
        }
        outputNorm = weight(f, "output_norm.weight", dim);
        output = f.tensor("output.weight") == null ? tokenEmbd : weight(f, "output.weight", dim, vocab);
        invFreq = new double[c.headDim() / 2];
        for (int i = 0; i < invFreq.length; i++) {
            invFreq[i] = DetMath.pow(c.ropeTheta(), -2.0 * i / c.headDim());
        }
    }

    private static float[] weight(GgufFile f, String name, long... ne) {
        GgufTensorInfo t = f.tensor(name);
        if (t == null) {
            throw new GgufFormatException("missing tensor " + name);
        }
        if (!Arrays.equals(t.ne(), ne)) {
            throw new GgufFormatException("tensor " + name + " has shape " + Arrays.toString(t.ne()) + ", expected "
                    + Arrays.toString(ne));
        }
        return f.readFloats(t);
    }

    /** JVM only: maps the file read-only. */
    public static LlamaModel load(java.nio.file.Path gguf) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(gguf,
                java.nio.file.StandardOpenOption.READ)) {
            if (ch.size() > Integer.MAX_VALUE) {
                throw new IOException(gguf + " is larger than 2 GiB, not supported yet");
            }
            return load(ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, ch.size()));
        }
    }

    public static LlamaModel load(ByteBuffer gguf) {
        return new LlamaModel(GgufFile.read(gguf));
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
        }
    }

    static void rmsnorm(float[] out, float[] x, float[] w, float eps) {
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

    /** out[o] = sum_i w[o*in + i] * x[i] (ggml ne=[in, out] layout). */
    static void matmul(float[] out, float[] w, float[] x, int in, int outDim) {
        for (int o = 0; o < outDim; o++) {
            int base = o * in;
            float s = 0f;
            for (int i = 0; i < in; i++) {
                s += w[base + i] * x[i];
            }
            out[o] = s;
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
        System.arraycopy(tokenEmbd, token * dim, x, 0, dim);
        float[] kTmp = new float[kvDim];
        float[] vTmp = new float[kvDim];
        for (int l = 0; l < c.layers(); l++) {
            rmsnorm(st.xb, x, attnNorm[l], c.rmsEps());
            matmul(st.q, wq[l], st.xb, dim, qDim);
            matmul(kTmp, wk[l], st.xb, dim, kvDim);
            matmul(vTmp, wv[l], st.xb, dim, kvDim);
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
            matmul(st.attOut, wo[l], st.att, qDim, dim);
            for (int i = 0; i < dim; i++) {
                x[i] += st.attOut[i];
            }
            rmsnorm(st.xb, x, ffnNorm[l], c.rmsEps());
            matmul(st.hb, wGate[l], st.xb, dim, c.hiddenDim());
            matmul(st.hb2, wUp[l], st.xb, dim, c.hiddenDim());
            for (int i = 0; i < c.hiddenDim(); i++) {
                float g = st.hb[i];
                st.hb[i] = g / (1f + DetMath.expf(-g)) * st.hb2[i];
            }
            matmul(st.attOut, wDown[l], st.hb, c.hiddenDim(), dim);
            for (int i = 0; i < dim; i++) {
                x[i] += st.attOut[i];
            }
        }
        if (!wantLogits) {
            return null;
        }
        rmsnorm(st.xb, x, outputNorm, c.rmsEps());
        matmul(st.logits, output, st.xb, dim, c.vocabSize());
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
        if (r.maxTokens() < 1) {
            throw new IllegalArgumentException("max_tokens must be >= 1, got " + r.maxTokens());
        }
        Sampler sampler = new Sampler(r.sampling() == null ? Sampling.greedy() : r.sampling());
        int[] prompt = promptIds(r);
        long total = (long) prompt.length + r.maxTokens();
        if (total > c.contextLength()) {
            throw new ContextLengthExceededException("prompt of " + prompt.length + " tokens plus max_tokens "
                    + r.maxTokens() + " exceeds the context length " + c.contextLength());
        }
        State st = new State((int) total);
        long t0 = System.nanoTime();
        float[] logits = null;
        for (int i = 0; i < prompt.length; i++) {
            logits = forward(st, prompt[i], i, i == prompt.length - 1);
        }
        long t1 = System.nanoTime();
        int[] out = new int[r.maxTokens()];
        int n = 0;
        int pos = prompt.length;
        boolean stopped = false;
        while (n < r.maxTokens()) {
            int next = sampler.sample(logits);
            out[n++] = next;
            if (tokenizer.isEndOfGeneration(next)) {
                stopped = true;
                break;
            }
            if (n == r.maxTokens()) {
                break;
            }
            logits = forward(st, next, pos++, true);
        }
        long t2 = System.nanoTime();
        int[] ids = Arrays.copyOf(out, n);
        String text = tokenizer.decode(stopped ? Arrays.copyOf(ids, n - 1) : ids);
        return new GenerationResult(ids, text, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    }
}
