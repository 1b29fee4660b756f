package io.earnidle.node.llama;

import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.gguf.GgufFormatException;
import io.earnidle.node.gguf.GgufTensorInfo;
import io.earnidle.node.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * A Llama GGUF file's config, tokenizer, weights and RoPE frequencies: the one loader of every Java-orchestrated
 * forward pass ({@link LlamaModel} over {@link io.earnidle.node.llama.ops.TensorOps}, the WASM-SIMD engine over its
 * kernel memory). It finds each tensor by name, checks its shape against the config and hands it to the engine's
 * {@link Placement}, which decides where the weights live (a view on the file's bytes, an offset in kernel memory).
 * Tensors are placed in one fixed order: token_embd, each layer's attn_norm, q, k, v, output, ffn_norm, gate, up,
 * down, then output_norm, output (unless tied to token_embd) and rope_freqs.
 *
 * @param <M> a weight matrix as the engine holds it
 * @param <V> an f32 vector (norm weights) as the engine holds it
 */
public final class LlamaWeights<M, V> {
    /** Where an engine keeps the tensors. */
    public interface Placement<M, V> {
        /** Tensor {@code t}, {@code rows} rows of {@code cols} values (shape already checked). */
        M matrix(GgufTensorInfo t, int cols, int rows);

        /** Tensor {@code t} as {@code n} f32 values (shape already checked). */
        V vector(GgufTensorInfo t, int n);

        /** The {@code n} values of a vector this placement made. */
        float[] read(V vector, int n);
    }

    public record Layer<M, V>(V attnNorm, M wq, M wk, M wv, M wo, V ffnNorm, M gate, M up, M down) {
    }

    private final LlamaConfig config;
    private final Tokenizer tokenizer;
    private final M tokenEmbd;        // [vocab][dim]
    private final List<Layer<M, V>> layers;
    private final V outputNorm;       // [dim]
    private final M output;           // [vocab][dim]; token_embd when the output is tied
    private final boolean tiedOutput;
    private final float[] ropeFreqFactors; // [headDim/2] from rope_freqs.weight, or null
    private final Rope rope;

    private LlamaWeights(GgufFile f, Placement<M, V> place) {
        this.tokenizer = Tokenizer.fromGguf(f);
        this.config = LlamaConfig.fromGguf(f, tokenizer.vocabSize());
        LlamaConfig c = config;
        if (c.vocabSize() != tokenizer.vocabSize()) {
            throw new GgufFormatException("llama.vocab_size " + c.vocabSize() + " != " + tokenizer.vocabSize() + " tokens");
        }
        int dim = c.dim();
        int qDim = c.heads() * c.headDim();
        int kv = c.kvDim();
        int hid = c.hiddenDim();
        int vocab = c.vocabSize();
        tokenEmbd = matrix(f, place, "token_embd.weight", dim, vocab);
        List<Layer<M, V>> ls = new ArrayList<>(c.layers());
        for (int l = 0; l < c.layers(); l++) {
            String p = "blk." + l + ".";
            V attnNorm = vector(f, place, p + "attn_norm.weight", dim);
            M wq = matrix(f, place, p + "attn_q.weight", dim, qDim);
            M wk = matrix(f, place, p + "attn_k.weight", dim, kv);
            M wv = matrix(f, place, p + "attn_v.weight", dim, kv);
            M wo = matrix(f, place, p + "attn_output.weight", qDim, dim);
            V ffnNorm = vector(f, place, p + "ffn_norm.weight", dim);
            M gate = matrix(f, place, p + "ffn_gate.weight", dim, hid);
            M up = matrix(f, place, p + "ffn_up.weight", dim, hid);
            M down = matrix(f, place, p + "ffn_down.weight", hid, dim);
            ls.add(new Layer<>(attnNorm, wq, wk, wv, wo, ffnNorm, gate, up, down));
        }
        layers = Collections.unmodifiableList(ls);
        outputNorm = vector(f, place, "output_norm.weight", dim);
        tiedOutput = f.tensor("output.weight") == null;
        output = tiedOutput ? tokenEmbd : matrix(f, place, "output.weight", dim, vocab);
        int half = c.headDim() / 2;
        ropeFreqFactors = f.tensor("rope_freqs.weight") == null ? null
                : place.read(vector(f, place, "rope_freqs.weight", half), half);
        rope = new Rope(c, ropeFreqFactors);
    }

    /** Reads the config and tokenizer of {@code f} and places its tensors with {@code place}. */
    public static <M, V> LlamaWeights<M, V> load(GgufFile f, Placement<M, V> place) {
        return new LlamaWeights<>(f, place);
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

    private static <M, V> M matrix(GgufFile f, Placement<M, V> place, String name, int cols, int rows) {
        return place.matrix(tensor(f, name, cols, rows), cols, rows);
    }

    private static <M, V> V vector(GgufFile f, Placement<M, V> place, String name, int n) {
        return place.vector(tensor(f, name, n), n);
    }

    public LlamaConfig config() {
        return config;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public M tokenEmbd() {
        return tokenEmbd;
    }

    public List<Layer<M, V>> layers() {
        return layers;
    }

    public V outputNorm() {
        return outputNorm;
    }

    /** The LM head: {@link #tokenEmbd()} itself when the output is tied. */
    public M output() {
        return output;
    }

    public boolean tiedOutput() {
        return tiedOutput;
    }

    /** The llama3 RoPE frequency divisors from rope_freqs.weight, or null when the file has none. */
    public float[] ropeFreqFactors() {
        return ropeFreqFactors == null ? null : ropeFreqFactors.clone();
    }

    public Rope rope() {
        return rope;
    }
}
