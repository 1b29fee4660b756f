package io.earnidle.node.llama;

import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.gguf.GgufFormatException;

/** Llama hyper-parameters read from GGUF metadata ({@code <arch>.*} keys). */
public record LlamaConfig(int dim, int hiddenDim, int layers, int heads, int kvHeads, int headDim, int vocabSize,
                          int contextLength, float ropeTheta, float rmsEps) {

    public int kvDim() {
        return kvHeads * headDim;
    }

    public static LlamaConfig fromGguf(GgufFile f, int tokenizerVocab) {
        String arch = f.getString("general.architecture");
        if (!arch.equals("llama")) {
            throw new GgufFormatException("general.architecture " + arch + " not supported (only llama)");
        }
        int dim = f.getInt("llama.embedding_length");
        int heads = f.getInt("llama.attention.head_count");
        int kvHeads = f.getInt("llama.attention.head_count_kv", heads);
        if (dim <= 0 || heads <= 0 || kvHeads <= 0 || dim % heads != 0 || heads % kvHeads != 0) {
            throw new GgufFormatException("inconsistent attention shape: embedding_length " + dim + ", head_count "
                    + heads + ", head_count_kv " + kvHeads);
        }
        int headDim = dim / heads;
        int rope = f.getInt("llama.rope.dimension_count", headDim);
        if (rope != headDim || headDim % 2 != 0) {
            throw new GgufFormatException("rope.dimension_count " + rope + " must equal the (even) head size " + headDim);
        }
        int vocab = f.getInt("llama.vocab_size", tokenizerVocab);
        int ctx = f.getInt("llama.context_length");
        int hidden = f.getInt("llama.feed_forward_length");
        int layers = f.getInt("llama.block_count");
        if (ctx <= 0 || hidden <= 0 || layers <= 0 || vocab <= 0) {
            throw new GgufFormatException("context_length, feed_forward_length, block_count and vocab_size must be positive");
        }
        return new LlamaConfig(dim, hidden, layers, heads, kvHeads, headDim, vocab, ctx,
                f.getFloat("llama.rope.freq_base", 10000f),
                f.getFloat("llama.attention.layer_norm_rms_epsilon", 1e-5f));
    }
}
