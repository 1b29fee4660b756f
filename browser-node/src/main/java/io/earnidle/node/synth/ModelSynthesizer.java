package io.earnidle.node.synth;

import io.earnidle.node.gguf.GgufValue;
import io.earnidle.node.gguf.GgufWriter;
import io.earnidle.node.llama.SplitMix64;
import io.earnidle.node.tokenizer.ByteLevel;

import java.io.IOException;
import java.util.LinkedHashSet;

/** Writes small synthetic Llama GGUF models (F32, deterministic per seed) for tests and demos. */
public final class ModelSynthesizer {
    public static final int DIM = 64;
    public static final int HIDDEN = 192;
    public static final int LAYERS = 2;
    public static final int HEADS = 4;
    public static final int KV_HEADS = 2;
    public static final int CONTEXT = 256;

    /** Merges of common English pairs, in rank order (byte-level form, Ġ = space). */
    static final String[] MERGES = {
        "Ġ t", "h e", "Ġt he", "i n", "e r", "a n", "o n", "Ġ a", "r e", "e n", "Ġ s", "Ġ w", "Ġ o", "o u",
        "i s", "a t", "Ġ c", "Ġ b", "o r", "e d", "i t", "e s", "Ġ f", "Ġ p", "Ġ m", "a r", "a l", "Ġ h",
        "n g", "i ng", "Ġ i", "Ġa n", "Ġan d", "Ġo f", "Ġt o", "Ġi s", "l l", "e ll", "l o", "Ġw or", "l d",
        "Ġwor ld", "H e", "He ll", "Hell o", "Ġt h", "Ġth is", "Ġ T", "Ġ 1", "Ġ in",
    };

    public static final String[] SPECIALS = {
        "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
    };

    private ModelSynthesizer() {
    }

    /**
     * Writes a small synthetic Llama-architecture GGUF (F32 weights, deterministic for a seed, byte-level BPE
     * vocab with Llama-3 style special tokens). Same seed => byte-identical file.
     */
    public static void writeTiny(java.nio.file.Path out, long seed) throws IOException {
        java.nio.file.Files.write(out, tinyBytes(seed));
    }

    /** The tokens of the synthetic vocabulary: 256 byte tokens, merge results, then the specials. */
    public static String[] vocabulary() {
        LinkedHashSet<String> v = new LinkedHashSet<>();
        for (int b = 0; b < 256; b++) {
            v.add(String.valueOf(ByteLevel.byteToChar(b)));
        }
        for (String m : MERGES) {
            v.add(m.replace(" ", ""));
        }
        for (String s : SPECIALS) {
            v.add(s);
        }
        return v.toArray(new String[0]);
    }

    public static byte[] tinyBytes(long seed) {
        String[] tokens = vocabulary();
        int vocab = tokens.length;
        int[] types = new int[vocab];
        int firstSpecial = vocab - SPECIALS.length;
        for (int i = 0; i < vocab; i++) {
            types[i] = i >= firstSpecial ? 3 : 1;
        }
        int headDim = DIM / HEADS;
        int kvDim = KV_HEADS * headDim;
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "llama")
                .putString("general.name", "SYNTHETIC tiny llama (seed " + seed + ")")
                .putUInt32("general.alignment", 32)
                .putUInt32("general.file_type", 0)
                .putUInt32("llama.context_length", CONTEXT)
                .putUInt32("llama.embedding_length", DIM)
                .putUInt32("llama.feed_forward_length", HIDDEN)
                .putUInt32("llama.block_count", LAYERS)
                .putUInt32("llama.attention.head_count", HEADS)
                .putUInt32("llama.attention.head_count_kv", KV_HEADS)
                .putUInt32("llama.rope.dimension_count", headDim)
                .putFloat32("llama.rope.freq_base", 500000f)
                .putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .putUInt32("llama.vocab_size", vocab)
                .putString("tokenizer.ggml.model", "gpt2")
                .putString("tokenizer.ggml.pre", "llama-bpe")
                .putStrings("tokenizer.ggml.tokens", tokens)
                .putInt32s("tokenizer.ggml.token_type", types)
                .putStrings("tokenizer.ggml.merges", MERGES.clone())
                .putUInt32("tokenizer.ggml.bos_token_id", firstSpecial)
                .putUInt32("tokenizer.ggml.eos_token_id", firstSpecial + 1)
                .put("tokenizer.ggml.add_bos_token", GgufValue.bool(true));
        SplitMix64 rng = new SplitMix64(seed);
        w.addF32("token_embd.weight", new long[] {DIM, vocab}, random(rng, DIM * vocab, 1.0f));
        for (int l = 0; l < LAYERS; l++) {
            String p = "blk." + l + ".";
            w.addF32(p + "attn_norm.weight", new long[] {DIM}, norm(rng, DIM));
            w.addF32(p + "attn_q.weight", new long[] {DIM, DIM}, matrix(rng, DIM, DIM));
            w.addF32(p + "attn_k.weight", new long[] {DIM, kvDim}, matrix(rng, DIM, kvDim));
            w.addF32(p + "attn_v.weight", new long[] {DIM, kvDim}, matrix(rng, DIM, kvDim));
            w.addF32(p + "attn_output.weight", new long[] {DIM, DIM}, matrix(rng, DIM, DIM));
            w.addF32(p + "ffn_norm.weight", new long[] {DIM}, norm(rng, DIM));
            w.addF32(p + "ffn_gate.weight", new long[] {DIM, HIDDEN}, matrix(rng, DIM, HIDDEN));
            w.addF32(p + "ffn_up.weight", new long[] {DIM, HIDDEN}, matrix(rng, DIM, HIDDEN));
            w.addF32(p + "ffn_down.weight", new long[] {HIDDEN, DIM}, matrix(rng, HIDDEN, DIM));
        }
        w.addF32("output_norm.weight", new long[] {DIM}, norm(rng, DIM));
        w.addF32("output.weight", new long[] {DIM, vocab}, matrix(rng, DIM, vocab));
        return w.toBytes();
    }

    private static float[] random(SplitMix64 rng, int n, float amplitude) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((rng.nextDouble() * 2.0 - 1.0) * amplitude);
        }
        return a;
    }

    /** Uniform weights with variance 2/in so activations keep an O(1) scale. */
    private static float[] matrix(SplitMix64 rng, int in, int out) {
        return random(rng, in * out, (float) Math.sqrt(6.0 / in));
    }

    private static float[] norm(SplitMix64 rng, int n) {
        float[] a = random(rng, n, 0.2f);
        for (int i = 0; i < n; i++) {
            a[i] += 1f;
        }
        return a;
    }

}
