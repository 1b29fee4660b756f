package io.earnidle.node.synth;

import io.earnidle.node.gguf.GgmlType;
import io.earnidle.node.gguf.GgufValue;
import io.earnidle.node.gguf.Quantizer;
import io.earnidle.node.gguf.GgufWriter;
import io.earnidle.node.llama.SplitMix64;
import io.earnidle.node.tokenizer.ByteLevel;

import java.io.IOException;
import java.util.LinkedHashSet;

/**
 * Writes synthetic Llama GGUF models, deterministic per seed: {@link #writeTiny} (the small F32 model of the team
 * contract, built in memory) and {@link #write} (any {@link SynthShape}, any {@link SynthFileType}, optionally the
 * real Llama 3 tokenizer, streamed to the file so the 1B shape never sits in memory; chunks of rows are generated
 * and quantized on several threads, each chunk from its own seeded PRNG, so the bytes do not depend on the thread
 * count).
 */
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


    /** Writes a model of the given shape and type; {@code tokenizer} null uses the synthetic byte-level vocabulary. */
    public static void write(java.nio.file.Path out, SynthShape shape, SynthFileType type, long seed,
                             TokenizerFiles tokenizer) throws IOException {
        GgufWriter w = plan(shape, type, seed, tokenizer);
        java.nio.file.Path tmp = out.resolveSibling(out.getFileName() + ".part");
        try (java.io.OutputStream os = new java.io.BufferedOutputStream(java.nio.file.Files.newOutputStream(tmp), 1 << 20)) {
            w.writeTo(os);
        } catch (IOException | RuntimeException e) {
            java.nio.file.Files.deleteIfExists(tmp);
            throw e;
        }
        java.nio.file.Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** The Llama 3.1/3.2 RoPE frequency divisors (factor 32, low-frequency factor 1, high 4, original context 8192). */
    public static float[] llama3RopeFactors(int headDim, float base) {
        double factor = 32, low = 1, high = 4, oldCtx = 8192;
        double lowWavelen = oldCtx / low;
        double highWavelen = oldCtx / high;
        float[] f = new float[headDim / 2];
        for (int i = 0; i < f.length; i++) {
            double freq = 1.0 / Math.pow(base, 2.0 * i / headDim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) {
                f[i] = 1f;
            } else if (wavelen > lowWavelen) {
                f[i] = (float) factor;
            } else {
                double smooth = (oldCtx / wavelen - low) / (high - low);
                f[i] = (float) (1.0 / ((1 - smooth) / factor + smooth));
            }
        }
        return f;
    }

    static GgufWriter plan(SynthShape shape, SynthFileType type, long seed, TokenizerFiles tok) {
        String[] tokens;
        int[] types;
        String[] merges;
        int bos;
        int eos;
        if (tok != null) {
            // a real Llama 3.2 GGUF carries the Llama 3.1+ names of the added tokens (<|eom_id|>, <|python_tag|>, ...)
            tokens = io.earnidle.node.tokenizer.Llama3Specials.renamedTo31(tok.tokens());
            types = tok.types();
            merges = tok.merges();
            bos = tok.bosId();
            eos = tok.eosId();
        } else {
            String[] base = vocabulary();
            int n = Math.max(base.length, shape.vocab());
            tokens = java.util.Arrays.copyOf(base, n);
            types = new int[n];
            int firstSpecial = base.length - SPECIALS.length;
            for (int i = 0; i < n; i++) {
                types[i] = i >= firstSpecial && i < base.length ? 3 : 1;
                if (i >= base.length) {
                    tokens[i] = "[synthetic-filler-" + i + "]";
                }
            }
            merges = MERGES.clone();
            bos = firstSpecial;
            eos = firstSpecial + 1;
        }
        int vocab = tokens.length;
        if (shape.vocab() > 0 && shape.vocab() != vocab) {
            throw new IllegalArgumentException("shape " + shape.name() + " has a vocabulary of " + shape.vocab()
                    + " but the tokenizer has " + vocab + " tokens");
        }
        int headDim = shape.headDim();
        int kvDim = shape.kvHeads() * headDim;
        int dim = shape.dim();
        int hid = shape.hidden();
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "llama")
                .putString("general.name", "SYNTHETIC " + shape.name() + " " + type.name().toLowerCase() + " (seed " + seed + ")")
                .putUInt32("general.alignment", 32)
                .putUInt32("general.file_type", type.fileType)
                .putUInt32("llama.context_length", shape.context())
                .putUInt32("llama.embedding_length", dim)
                .putUInt32("llama.feed_forward_length", hid)
                .putUInt32("llama.block_count", shape.layers())
                .putUInt32("llama.attention.head_count", shape.heads())
                .putUInt32("llama.attention.head_count_kv", shape.kvHeads())
                .putUInt32("llama.rope.dimension_count", headDim)
                .putFloat32("llama.rope.freq_base", shape.ropeBase())
                .putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .putUInt32("llama.vocab_size", vocab)
                .putString("tokenizer.ggml.model", "gpt2")
                .putString("tokenizer.ggml.pre", "llama-bpe")
                .putStrings("tokenizer.ggml.tokens", tokens)
                .putInt32s("tokenizer.ggml.token_type", types)
                .putStrings("tokenizer.ggml.merges", merges)
                .putUInt32("tokenizer.ggml.bos_token_id", bos)
                .putUInt32("tokenizer.ggml.eos_token_id", eos)
                .put("tokenizer.ggml.add_bos_token", GgufValue.bool(true));
        if (tok != null && tok.chatTemplate() != null) {
            w.putString("tokenizer.chat_template", tok.chatTemplate());
        }
        Gen g = new Gen(w, seed, type, shape);
        float embAmp = (float) Math.sqrt(3.0 / dim);
        if (shape.llama3Rope()) {
            float[] rf = llama3RopeFactors(headDim, shape.ropeBase());
            w.addF32("rope_freqs.weight", new long[] {rf.length}, rf);
        }
        g.matrix("token_embd.weight", -1, dim, vocab, shape.tied() ? embAmp * 4 : 1.0f);
        for (int l = 0; l < shape.layers(); l++) {
            String p = "blk." + l + ".";
            g.norm(p + "attn_norm.weight", dim);
            g.matrix(p + "attn_q.weight", l, dim, dim, 0);
            g.matrix(p + "attn_k.weight", l, dim, kvDim, 0);
            g.matrix(p + "attn_v.weight", l, dim, kvDim, 0);
            g.matrix(p + "attn_output.weight", l, dim, dim, 0);
            g.norm(p + "ffn_norm.weight", dim);
            g.matrix(p + "ffn_gate.weight", l, dim, hid, 0);
            g.matrix(p + "ffn_up.weight", l, dim, hid, 0);
            g.matrix(p + "ffn_down.weight", l, hid, dim, 0);
        }
        g.norm("output_norm.weight", dim);
        if (!shape.tied()) {
            g.matrix("output.weight", -1, dim, vocab, 0);
        }
        return w;
    }

    /** Declares streamed tensors; tensor #k, chunk #c of rows draws from SplitMix64(mix(seed, k, c)). */
    private static final class Gen {
        private static final int CHUNK_VALUES = 1 << 20;
        private final GgufWriter w;
        private final long seed;
        private final SynthFileType type;
        private final SynthShape shape;
        private int index;

        Gen(GgufWriter w, long seed, SynthFileType type, SynthShape shape) {
            this.w = w;
            this.seed = seed;
            this.type = type;
            this.shape = shape;
        }

        void norm(String name, int n) {
            SplitMix64 rng = new SplitMix64(mix(seed, index++, 0));
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = 1f + (float) ((rng.nextDouble() * 2.0 - 1.0) * 0.2);
            }
            w.addF32(name, new long[] {n}, v);
        }

        /** A cols x rows matrix, uniform in +-amp (amp 0: +-sqrt(3/cols), variance 1/cols). */
        void matrix(String name, int layer, int cols, int rows, float amp) {
            GgmlType t = type.typeFor(name, layer, shape.layers(), shape.tied(), cols);
            float a = amp > 0 ? amp : (float) Math.sqrt(3.0 / cols);
            long tensorSeed = mix(seed, index++, 0);
            int chunkRows = Math.max(1, CHUNK_VALUES / cols);
            int chunks = (rows + chunkRows - 1) / chunkRows;
            long rowBytes = t.byteSize(cols);
            w.addTensor(name, new long[] {cols, rows}, t, out -> {
                int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
                java.util.concurrent.ExecutorService ex = java.util.concurrent.Executors.newFixedThreadPool(threads, r -> {
                    Thread th = new Thread(r, "synth");
                    th.setDaemon(true);
                    return th;
                });
                try {
                    java.util.ArrayDeque<java.util.concurrent.Future<byte[]>> q = new java.util.ArrayDeque<>();
                    int next = 0;
                    for (int c = 0; c < chunks; c++) {
                        while (next < chunks && q.size() < 2 * threads) {
                            final int chunk = next++;
                            q.add(ex.submit(() -> {
                                int r0 = chunk * chunkRows;
                                int nr = Math.min(chunkRows, rows - r0);
                                SplitMix64 rng = new SplitMix64(mix(tensorSeed, chunk, 1));
                                float[] v = new float[nr * cols];
                                for (int i = 0; i < v.length; i++) {
                                    v[i] = (float) ((rng.nextDouble() * 2.0 - 1.0) * a);
                                }
                                byte[] b = new byte[(int) (rowBytes * nr)];
                                Quantizer.quantize(t, v, 0, v.length, b, 0);
                                return b;
                            }));
                        }
                        out.write(q.poll().get());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("synthesis interrupted");
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IOException("synthesis of " + name + " failed", e.getCause());
                } finally {
                    ex.shutdownNow();
                }
            });
        }
    }

    static long mix(long seed, long a, long b) {
        SplitMix64 r = new SplitMix64(seed ^ (a * 0x9E3779B97F4A7C15L) ^ (b * 0xC2B2AE3D27D4EB4FL));
        r.nextLong();
        return r.nextLong();
    }
}
