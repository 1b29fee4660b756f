package io.earnidle.node.llama;

import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.synth.ModelSynthesizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class LlamaModelTest {
    private static byte[] bytes;
    private static LlamaModel model;

    @BeforeAll
    static void load() {
        bytes = ModelSynthesizer.tinyBytes(42);
        model = LlamaModel.load(ByteBuffer.wrap(bytes));
    }

    /**
     * Independent reference: recomputes the whole sequence from scratch in double precision (no KV cache,
     * java.lang.Math, weights read directly from the GGUF) and returns the logits of the last position.
     */
    static double[] referenceLogits(GgufFile f, int[] tokens) {
        int dim = f.getInt("llama.embedding_length");
        int heads = f.getInt("llama.attention.head_count");
        int kvHeads = f.getInt("llama.attention.head_count_kv");
        int hidden = f.getInt("llama.feed_forward_length");
        int layers = f.getInt("llama.block_count");
        int vocab = f.getInt("llama.vocab_size");
        double base = f.getFloat("llama.rope.freq_base", 0);
        double eps = f.getFloat("llama.attention.layer_norm_rms_epsilon", 0);
        int hd = dim / heads;
        int n = tokens.length;
        float[] ropeFreqs = f.tensor("rope_freqs.weight") == null ? null : w(f, "rope_freqs.weight");
        double[][] x = new double[n][dim];
        float[] emb = w(f, "token_embd.weight");
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < dim; i++) {
                x[t][i] = emb[tokens[t] * dim + i];
            }
        }
        for (int l = 0; l < layers; l++) {
            String p = "blk." + l + ".";
            double[][] xn = new double[n][];
            for (int t = 0; t < n; t++) {
                xn[t] = norm(x[t], w(f, p + "attn_norm.weight"), eps);
            }
            double[][] q = new double[n][], k = new double[n][], v = new double[n][];
            for (int t = 0; t < n; t++) {
                q[t] = rope(mul(w(f, p + "attn_q.weight"), xn[t], dim, dim), t, hd, base, ropeFreqs);
                k[t] = rope(mul(w(f, p + "attn_k.weight"), xn[t], dim, kvHeads * hd), t, hd, base, ropeFreqs);
                v[t] = mul(w(f, p + "attn_v.weight"), xn[t], dim, kvHeads * hd);
            }
            for (int t = 0; t < n; t++) {
                double[] att = new double[dim];
                for (int h = 0; h < heads; h++) {
                    int kvh = h / (heads / kvHeads);
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u <= t; u++) {
                        double d = 0;
                        for (int i = 0; i < hd; i++) {
                            d += q[t][h * hd + i] * k[u][kvh * hd + i];
                        }
                        s[u] = d / Math.sqrt(hd);
                        max = Math.max(max, s[u]);
                    }
                    double sum = 0;
                    for (int u = 0; u <= t; u++) {
                        s[u] = Math.exp(s[u] - max);
                        sum += s[u];
                    }
                    for (int u = 0; u <= t; u++) {
                        for (int i = 0; i < hd; i++) {
                            att[h * hd + i] += s[u] / sum * v[u][kvh * hd + i];
                        }
                    }
                }
                double[] o = mul(w(f, p + "attn_output.weight"), att, dim, dim);
                for (int i = 0; i < dim; i++) {
                    x[t][i] += o[i];
                }
            }
            for (int t = 0; t < n; t++) {
                double[] h = norm(x[t], w(f, p + "ffn_norm.weight"), eps);
                double[] g = mul(w(f, p + "ffn_gate.weight"), h, dim, hidden);
                double[] up = mul(w(f, p + "ffn_up.weight"), h, dim, hidden);
                for (int i = 0; i < hidden; i++) {
                    g[i] = g[i] / (1 + Math.exp(-g[i])) * up[i];
                }
                double[] d = mul(w(f, p + "ffn_down.weight"), g, hidden, dim);
                for (int i = 0; i < dim; i++) {
                    x[t][i] += d[i];
                }
            }
        }
        double[] last = norm(x[n - 1], w(f, "output_norm.weight"), eps);
        String out = f.tensor("output.weight") == null ? "token_embd.weight" : "output.weight"; // tied output
        return mul(w(f, out), last, dim, vocab);
    }

    private static float[] w(GgufFile f, String name) {
        return f.readFloats(f.tensor(name));
    }

    private static double[] norm(double[] x, float[] g, double eps) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double s = 1 / Math.sqrt(ss / x.length + eps);
        double[] o = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            o[i] = x[i] * s * g[i];
        }
        return o;
    }

    private static double[] mul(float[] w, double[] x, int in, int out) {
        double[] o = new double[out];
        for (int r = 0; r < out; r++) {
            for (int i = 0; i < in; i++) {
                o[r] += w[r * in + i] * x[i];
            }
        }
        return o;
    }

    /** Adjacent-pair rotation per head: (x[2i], x[2i+1]) by pos * base^(-2i/hd) / freqs[i] (freqs: llama3 factors). */
    private static double[] rope(double[] v, int pos, int hd, double base, float[] freqs) {
        double[] o = v.clone();
        for (int h = 0; h < v.length / hd; h++) {
            for (int i = 0; i < hd / 2; i++) {
                double th = pos * Math.pow(base, -2.0 * i / hd) / (freqs == null ? 1.0 : freqs[i]);
                double a = v[h * hd + 2 * i], b = v[h * hd + 2 * i + 1];
                o[h * hd + 2 * i] = a * Math.cos(th) - b * Math.sin(th);
                o[h * hd + 2 * i + 1] = a * Math.sin(th) + b * Math.cos(th);
            }
        }
        return o;
    }

    @Test
    void configComesFromMetadata() {
        LlamaConfig c = model.config();
        assertEquals(new LlamaConfig(64, 192, 2, 4, 2, 16, model.vocabSize(), 256, 500000f, 1e-5f), c);
        assertEquals(256, model.contextLength());
        assertEquals(model.vocabSize(), model.tokenizer().vocabSize());
    }

    @Test
    void forwardMatchesIndependentReference() {
        GgufFile f = GgufFile.read(bytes);
        int[] tokens = model.tokenizer().encode("Hello world, the cat is on the mat 42!", true);
        LlamaModel.State st = model.new State(tokens.length);
        float[] logits = null;
        for (int i = 0; i < tokens.length; i++) {
            logits = model.forward(st, tokens[i], i, i == tokens.length - 1);
        }
        double[] ref = referenceLogits(f, tokens);
        double maxDiff = 0;
        double maxAbs = 0;
        for (int i = 0; i < ref.length; i++) {
            assertTrue(Float.isFinite(logits[i]));
            maxDiff = Math.max(maxDiff, Math.abs(logits[i] - ref[i]));
            maxAbs = Math.max(maxAbs, Math.abs(ref[i]));
        }
        assertTrue(maxDiff < 1e-3, "max |logit - reference| = " + maxDiff);
        assertTrue(maxAbs > 0.5, "logits should not be degenerate: " + maxAbs);
        assertEquals(argmax(ref), Sampler.argmax(logits));
    }

    /**
     * The batched pass (all positions at once, logits of the last rows) gives bit for bit the logits and the KV
     * cache of token-by-token steps with the plain Java ops, also when a sequence is run as several batches.
     */
    @Test
    void batchedForwardEqualsTokenByToken() {
        int[] tokens = model.tokenizer().encode("Hello world, the cat is on the mat 42! and then some more", true);
        int n = tokens.length;
        int vocab = model.vocabSize();
        LlamaModel.State one = model.new State(n);
        float[][] expected = new float[n][];
        for (int i = 0; i < n; i++) {
            expected[i] = model.forward(one, tokens[i], i, true).clone();
        }
        int from = n / 3;
        LlamaModel.State all = model.new State(n);
        float[] logits = new float[(n - from) * vocab];
        model.forward(all, tokens, n, 0, from, logits);
        for (int i = from; i < n; i++) {
            assertArrayEquals(expected[i], Arrays.copyOfRange(logits, (i - from) * vocab, (i - from + 1) * vocab),
                    "position " + i);
        }
        for (int l = 0; l < model.config().layers(); l++) {
            assertArrayEquals(one.keys[l], all.keys[l]);
            assertArrayEquals(one.values[l], all.values[l]);
        }
        // the same sequence in two batches: the second attends to the cache the first filled
        LlamaModel.State split = model.new State(n);
        model.forward(split, tokens, from, 0, from, new float[0]);
        float[] rest = new float[(n - from) * vocab];
        model.forward(split, Arrays.copyOfRange(tokens, from, n), n - from, from, 0, rest);
        assertArrayEquals(logits, rest);
    }

    private static int argmax(double[] a) {
        int b = 0;
        for (int i = 1; i < a.length; i++) {
            if (a[i] > a[b]) {
                b = i;
            }
        }
        return b;
    }

    @Test
    void greedyGenerationFollowsTheReferenceArgmax() {
        GgufFile f = GgufFile.read(bytes);
        GenerationResult r = model.generate(new GenerationRequest("Hello", null, true, 6, Sampling.greedy()));
        int[] seq = model.tokenizer().encode("Hello", true);
        for (int step = 0; step < r.tokenIds().length; step++) {
            int expected = argmax(referenceLogits(f, seq));
            assertEquals(expected, r.tokenIds()[step], "step " + step);
            seq = Arrays.copyOf(seq, seq.length + 1);
            seq[seq.length - 1] = expected;
        }
        assertTrue(r.prefillMs() >= 0 && r.decodeMs() >= 0);
        assertEquals(model.tokenizer().decode(r.tokenIds()), r.text());
        // outputs vary with the prompt
        GenerationResult other = model.generate(new GenerationRequest(null, new int[] {5, 6, 7}, false, 6, Sampling.greedy()));
        assertFalse(Arrays.equals(r.tokenIds(), other.tokenIds()));
    }

    @Test
    void seededSamplingIsDeterministic() {
        Sampling s = new Sampling(0.9f, 40, 0.95f, 1234);
        GenerationRequest req = new GenerationRequest("the world", null, true, 24, s);
        int[] a = model.generate(req).tokenIds();
        int[] b = model.generate(req).tokenIds();
        assertArrayEquals(a, b);
        int[] c = model.generate(new GenerationRequest("the world", null, true, 24, new Sampling(0.9f, 40, 0.95f, 99))).tokenIds();
        assertFalse(Arrays.equals(a, c));
        // top_k = 1 is greedy whatever the temperature
        int[] k1 = model.generate(new GenerationRequest("the world", null, true, 8, new Sampling(2f, 1, 1f, 5))).tokenIds();
        int[] greedy = model.generate(new GenerationRequest("the world", null, true, 8, Sampling.greedy())).tokenIds();
        assertArrayEquals(greedy, k1);
        assertEquals(0xE220A8397B1DCDAFL, new SplitMix64(0).nextLong(), "SplitMix64 reference value");
    }

    @Test
    void samplerRespectsTopKAndTopP() {
        float[] logits = {0f, 5f, 4.9f, -3f, 1f};
        Sampler top2 = new Sampler(new Sampling(1f, 2, 1f, 7));
        Sampler topP = new Sampler(new Sampling(1f, 0, 0.1f, 7));
        for (int i = 0; i < 200; i++) {
            int t = top2.sample(logits);
            assertTrue(t == 1 || t == 2);
            assertEquals(1, topP.sample(logits));
        }
    }

    @Test
    void stopsOnEndOfGenerationAndEnforcesLimits() {
        int ctx = model.contextLength();
        ContextLengthExceededException e = assertThrows(ContextLengthExceededException.class,
                () -> model.generate(new GenerationRequest(null, new int[ctx - 3], false, 4, Sampling.greedy())));
        assertTrue(e.getMessage().contains("context length " + ctx), e.getMessage());
        assertEquals(3, model.generate(new GenerationRequest(null, new int[ctx - 3], false, 3, Sampling.greedy())).tokenIds().length);
        assertThrows(IllegalArgumentException.class,
                () -> model.generate(new GenerationRequest("x", new int[] {1}, true, 4, Sampling.greedy())));
        assertThrows(IllegalArgumentException.class,
                () -> model.generate(new GenerationRequest(null, new int[] {model.vocabSize()}, false, 4, Sampling.greedy())));
        assertThrows(IllegalArgumentException.class,
                () -> model.generate(new GenerationRequest("x", null, true, 0, Sampling.greedy())));
    }

    @Test
    void stopsOnEndOfSequence() {
        int[] prompt = model.tokenizer().encode("Hello", true);
        LlamaModel.State st = model.new State(prompt.length);
        float[] logits = null;
        for (int i = 0; i < prompt.length; i++) {
            logits = model.forward(st, prompt[i], i, i == prompt.length - 1);
        }
        int best = Sampler.argmax(logits);
        assertTrue(logits[best] > 0);
        // patch output.weight so that EOS's row is twice the winning row: EOS then wins with logit 2 * max
        byte[] patched = bytes.clone();
        GgufFile f = GgufFile.read(patched);
        int dim = model.config().dim();
        int off = (int) f.tensor("output.weight").offset();
        int eos = model.tokenizer().eosId();
        ByteBuffer bb = ByteBuffer.wrap(patched).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < dim; i++) {
            bb.putFloat(off + 4 * (eos * dim + i), 2f * bb.getFloat(off + 4 * (best * dim + i)));
        }
        GenerationResult r = LlamaModel.load(ByteBuffer.wrap(patched))
                .generate(new GenerationRequest("Hello", null, true, 10, Sampling.greedy()));
        assertArrayEquals(new int[] {eos}, r.tokenIds());
        assertEquals("", r.text());
    }

    @Test
    void synthesizerIsDeterministicPerSeed(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path a = dir.resolve("a.gguf");
        Path b = dir.resolve("b.gguf");
        Path c = dir.resolve("c.gguf");
        ModelSynthesizer.writeTiny(a, 7);
        ModelSynthesizer.writeTiny(b, 7);
        ModelSynthesizer.writeTiny(c, 8);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertFalse(Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(c)));
        GgufFile f = GgufFile.read(Files.readAllBytes(a));
        assertTrue(f.getString("general.name").contains("SYNTHETIC"));
        assertEquals("llama", f.getString("general.architecture"));
        assertEquals("gpt2", f.getString("tokenizer.ggml.model"));
        assertEquals("llama-bpe", f.getString("tokenizer.ggml.pre"));
        assertEquals(500000f, f.getFloat("llama.rope.freq_base", 0));
        GenerationRequest req = new GenerationRequest("Hi there", null, true, 5, Sampling.greedy());
        assertArrayEquals(LlamaModel.load(ByteBuffer.wrap(Files.readAllBytes(a))).generate(req).tokenIds(),
                LlamaModel.load(a).generate(req).tokenIds());
    }
}
