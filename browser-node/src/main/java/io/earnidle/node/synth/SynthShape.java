package io.earnidle.node.synth;

/**
 * The hyper-parameters of a synthetic Llama model. {@code vocab} 0 means "the vocabulary's own size".
 * {@code llama3Rope} writes a {@code rope_freqs.weight} tensor with Llama 3.1/3.2 frequency factors
 * (factor 32, low 1, high 4, original context 8192). {@code tied} omits {@code output.weight}.
 */
public record SynthShape(String name, int dim, int hidden, int layers, int heads, int kvHeads, int vocab, int context,
                         float ropeBase, boolean llama3Rope, boolean tied) {

    public SynthShape {
        if (dim <= 0 || heads <= 0 || kvHeads <= 0 || dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0
                || hidden <= 0 || layers <= 0 || context <= 0 || vocab < 0) {
            throw new IllegalArgumentException("inconsistent shape " + name);
        }
    }

    /** The shape of {@link ModelSynthesizer#writeTiny}: dim 64, 2 layers, 4 heads, 2 KV heads, untied, context 256. */
    public static final SynthShape TINY = new SynthShape("tiny", 64, 192, 2, 4, 2, 0, 256, 500000f, false, false);

    /** Llama-3.2-1B: dim 2048, 16 layers, 32 heads, 8 KV heads, FFN 8192, vocab 128256, llama3 RoPE, tied output. */
    public static final SynthShape LLAMA_3_2_1B = new SynthShape("llama-3.2-1b", 2048, 8192, 16, 32, 8, 128256,
            131072, 500000f, true, true);

    /**
     * A tiny shape whose rows (256 and 512 values) fit the 256-value K-quant super-blocks, so q4_k_m / q6_k files
     * really contain Q4_K and Q6_K tensors (the 64-wide {@link #TINY} falls back to Q8_0 for them).
     */
    public static final SynthShape TINY_K = new SynthShape("tiny-k", 256, 512, 2, 4, 2, 0, 256, 500000f, false, false);

    public static SynthShape named(String name) {
        return switch (name) {
            case "tiny" -> TINY;
            case "tiny-k" -> TINY_K;
            case "llama-3.2-1b" -> LLAMA_3_2_1B;
            default -> throw new IllegalArgumentException("unknown shape '" + name + "' (known: tiny, tiny-k, llama-3.2-1b)");
        };
    }

    /** A copy with other attention/FFN sizes (vocabulary, context, RoPE and tying kept). */
    public SynthShape withSizes(int newDim, int newHidden, int newLayers, int newHeads, int newKvHeads) {
        return new SynthShape(name, newDim, newHidden, newLayers, newHeads, newKvHeads, vocab, context, ropeBase,
                llama3Rope, tied);
    }

    public int headDim() {
        return dim / heads;
    }

    public SynthShape withContext(int ctx) {
        return new SynthShape(name, dim, hidden, layers, heads, kvHeads, vocab, ctx, ropeBase, llama3Rope, tied);
    }

    public SynthShape withTied(boolean t) {
        return new SynthShape(name, dim, hidden, layers, heads, kvHeads, vocab, context, ropeBase, llama3Rope, t);
    }

    public SynthShape withLlama3Rope(boolean r) {
        return new SynthShape(name, dim, hidden, layers, heads, kvHeads, vocab, context, ropeBase, r, tied);
    }
}
