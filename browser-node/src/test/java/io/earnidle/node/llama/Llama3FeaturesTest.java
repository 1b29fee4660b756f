package io.earnidle.node.llama;

import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.gguf.GgufTensorInfo;
import io.earnidle.node.gguf.GgufValue;
import io.earnidle.node.gguf.GgufWriter;
import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.synth.SynthFileType;
import io.earnidle.node.synth.SynthShape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Llama 3 hyper-parameters: rope_freqs (llama3 RoPE scaling), GQA ratios, tied output; and the sampling extras. */
class Llama3FeaturesTest {

    private static byte[] synth(Path dir, SynthShape shape) throws Exception {
        Path p = dir.resolve(shape.name() + shape.heads() + "-" + shape.kvHeads() + shape.tied() + shape.llama3Rope() + ".gguf");
        ModelSynthesizer.write(p, shape, SynthFileType.F32, 21, null);
        return Files.readAllBytes(p);
    }

    private static double maxDiff(float[] a, double[] ref) {
        double m = 0;
        for (int i = 0; i < ref.length; i++) {
            assertTrue(Float.isFinite(a[i]));
            m = Math.max(m, Math.abs(a[i] - ref[i]));
        }
        return m;
    }

    private static final int[] PROMPT = {300, 70, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 33, 256};

    @ParameterizedTest(name = "heads {0}, kv heads {1}, tied {2}, llama3 rope {3}")
    @CsvSource({"4,4,false,false", "4,2,false,true", "4,1,true,true", "8,2,true,false", "8,1,false,true"})
    void forwardMatchesReferenceForShapes(int heads, int kvHeads, boolean tied, boolean rope, @TempDir Path dir)
            throws Exception {
        SynthShape s = new SynthShape("t", 64, 128, 2, heads, kvHeads, 0, 128, 500000f, rope, tied);
        byte[] bytes = synth(dir, s);
        GgufFile f = GgufFile.read(bytes);
        assertEquals(tied, f.tensor("output.weight") == null);
        assertEquals(rope, f.tensor("rope_freqs.weight") != null);
        LlamaModel m = LlamaModel.load(ByteBuffer.wrap(bytes));
        assertEquals(tied, m.tiedOutput());
        assertEquals(kvHeads, m.config().kvHeads());
        float[] logits = QuantizedModelTest.lastLogits(m, PROMPT);
        double d = maxDiff(logits, LlamaModelTest.referenceLogits(f, PROMPT));
        assertTrue(d < 1e-3, "max |logit - reference| = " + d);
    }

    @Test
    void ropeFreqsChangeTheResultAsLlama3Scaling(@TempDir Path dir) throws Exception {
        SynthShape s = new SynthShape("t", 64, 128, 2, 4, 2, 0, 128, 500000f, true, false);
        byte[] bytes = synth(dir, s);
        GgufFile f = GgufFile.read(bytes);
        float[] factors = f.readFloats(f.tensor("rope_freqs.weight"));
        assertArrayEquals(ModelSynthesizer.llama3RopeFactors(16, 500000f), factors);
        assertEquals(1f, factors[0]);              // high frequencies unscaled
        assertEquals(32f, factors[7]);             // low frequencies divided by the factor 32
        LlamaModel m = LlamaModel.load(ByteBuffer.wrap(bytes));
        assertArrayEquals(factors, m.ropeFreqFactors());
        // the same file without rope_freqs must give different logits (the factors are used)
        GgufWriter w = new GgufWriter();
        for (Map.Entry<String, GgufValue> e : f.metadata().entrySet()) {
            w.put(e.getKey(), e.getValue());
        }
        for (GgufTensorInfo t : f.tensors()) {
            if (!t.name().equals("rope_freqs.weight")) {
                w.addF32(t.name(), t.ne(), f.readFloats(t));
            }
        }
        LlamaModel plain = LlamaModel.load(ByteBuffer.wrap(w.toBytes()));
        assertNull(plain.ropeFreqFactors());
        float[] a = QuantizedModelTest.lastLogits(m, PROMPT);
        float[] b = QuantizedModelTest.lastLogits(plain, PROMPT);
        double diff = 0;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
        }
        assertTrue(diff > 1e-3, "rope_freqs had no effect: " + diff);
        // the 1B factors: 64 of them, llama3 smoothing between 1 and 32
        float[] big = ModelSynthesizer.llama3RopeFactors(64, 500000f);
        assertEquals(32, big.length);
        assertEquals(1f, big[0]);
        assertEquals(32f, big[31]);
        boolean smooth = false;
        for (float v : big) {
            smooth |= v > 1f && v < 32f;
        }
        assertTrue(smooth);
    }

    @Test
    void badRopeFreqsAreRejected(@TempDir Path dir) throws Exception {
        SynthShape s = new SynthShape("t", 64, 128, 1, 4, 2, 0, 128, 500000f, true, false);
        GgufFile f = GgufFile.read(synth(dir, s));
        GgufWriter w = new GgufWriter();
        for (Map.Entry<String, GgufValue> e : f.metadata().entrySet()) {
            w.put(e.getKey(), e.getValue());
        }
        for (GgufTensorInfo t : f.tensors()) {
            float[] v = f.readFloats(t);
            if (t.name().equals("rope_freqs.weight")) {
                v[3] = 0f;
            }
            w.addF32(t.name(), t.ne(), v);
        }
        byte[] bad = w.toBytes();
        Exception e = assertThrows(RuntimeException.class, () -> LlamaModel.load(ByteBuffer.wrap(bad)));
        assertTrue(e.getMessage().contains("rope_freqs"), e.getMessage());
    }

    // ---- sampling extras

    @Test
    void fourArgumentSamplingKeepsItsMeaning() {
        Sampling s = new Sampling(0.7f, 40, 0.9f, 3);
        assertEquals(0f, s.minP());
        assertEquals(1f, s.repeatPenalty());
        assertEquals(List.of(), s.stop());
        assertEquals(new Sampling(0.7f, 40, 0.9f, 3), s);
        assertEquals(new Sampling(0f, 0, 1f, 0L), Sampling.greedy());
    }

    @Test
    void repetitionPenaltyFollowsLlamaCpp() {
        float[] logits = {2f, -2f, 1f, 0.5f, 3f};
        float[] p = Sampler.penalize(logits, new int[] {0, 1, 1, 4, 3}, 5, 2f, 4);
        // last 4 tokens: 1, 1, 4, 3 (token 0 is outside the window); each distinct token once
        assertArrayEquals(new float[] {2f, -4f, 1f, 0.25f, 1.5f}, p);
        assertArrayEquals(new float[] {2f, -2f, 1f, 0.5f, 3f}, logits, "input unchanged");
        // greedy with a penalty picks the best penalized logit
        Sampler greedy = new Sampler(Sampling.greedy().withRepeatPenalty(4f, 8));
        assertEquals(4, greedy.sample(logits, new int[0], 0));
        assertEquals(0, greedy.sample(logits, new int[] {4}, 1)); // 3/4 < 2
    }

    @Test
    void minPDropsUnlikelyTokens() {
        float[] logits = {5f, 4.9f, 0f, -1f};
        // p(2)/p(0) = e^-5 ~ 0.0067 < 0.05, so only tokens 0 and 1 can be drawn
        Sampler s = new Sampler(new Sampling(1f, 0, 1f, 1).withMinP(0.05f));
        for (int i = 0; i < 300; i++) {
            int t = s.sample(logits);
            assertTrue(t == 0 || t == 1, "drew " + t);
        }
        Sampler open = new Sampler(new Sampling(3f, 0, 1f, 1));
        boolean other = false;
        for (int i = 0; i < 300 && !other; i++) {
            other = open.sample(logits) >= 2;
        }
        assertTrue(other, "without min-p the tail is reachable");
        assertThrows(IllegalArgumentException.class, () -> new Sampler(Sampling.greedy().withMinP(1.5f)));
    }

    @Test
    void repetitionPenaltyChangesGeneration() {
        LlamaModel m = LlamaModel.load(ByteBuffer.wrap(ModelSynthesizer.tinyBytes(42)));
        GenerationRequest plain = new GenerationRequest("the world", null, true, 24, Sampling.greedy());
        GenerationRequest pen = new GenerationRequest("the world", null, true, 24,
                Sampling.greedy().withRepeatPenalty(1000f, 64));
        int[] a = m.generate(plain).tokenIds();
        int[] b = m.generate(pen).tokenIds();
        // with a huge penalty over the whole window, no generated token repeats one seen in the window
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int id : m.tokenizer().encode("the world", true)) {
            seen.add(id);
        }
        for (int id : b) {
            if (m.tokenizer().isEndOfGeneration(id)) {
                break;
            }
            assertTrue(seen.add(id), "token " + id + " repeated despite the penalty: " + java.util.Arrays.toString(b));
        }
        assertFalse(java.util.Arrays.equals(a, b));
    }

    @Test
    void stopStringsEndGenerationAndCutTheText() {
        LlamaModel m = LlamaModel.load(ByteBuffer.wrap(ModelSynthesizer.tinyBytes(42)));
        GenerationResult full = m.generate(new GenerationRequest("the world", null, true, 20, Sampling.greedy()));
        String text = full.text();
        assertTrue(text.length() >= 4, "need some text: " + text);
        String stop = text.substring(2, 4);
        GenerationResult cut = m.generate(new GenerationRequest("the world", null, true, 20,
                Sampling.greedy().withStop(List.of("never-appears", stop))));
        int at = text.indexOf(stop);
        assertEquals(text.substring(0, at), cut.text());
        assertTrue(cut.tokenIds().length < full.tokenIds().length);
        assertArrayEquals(java.util.Arrays.copyOf(full.tokenIds(), cut.tokenIds().length), cut.tokenIds());
        assertThrows(IllegalArgumentException.class, () -> Sampling.greedy().withStop(List.of("")));
    }

    @Test
    void theStableTextSoFarIsAlwaysAPrefixOfTheResultsText() {
        LlamaModel m = LlamaModel.load(ByteBuffer.wrap(ModelSynthesizer.tinyBytes(42)));
        String text = m.generate(new GenerationRequest("the world", null, true, 20, Sampling.greedy())).text();
        assertTrue(text.length() >= 6, "need some text: " + text);
        // a stop string whose first characters appear (as a tail) before it does: the tail must be held back
        String stop = text.substring(3, 6);
        for (Sampling sampling : List.of(Sampling.greedy(), Sampling.greedy().withStop(List.of(stop)),
                Sampling.greedy().withStop(List.of(text.substring(0, 1) + "never")))) {
            Generation g = new Generation(new LlamaModelSteps(m, "jvm"), new GenerationRequest("the world", null, true,
                    20, sampling), false);
            java.util.List<String> stable = new java.util.ArrayList<>();
            while (!g.done()) {
                g.step(e -> assertNull(e));
                stable.add(g.stableTextSoFar());
            }
            String result = g.result().text();
            for (int i = 0; i < stable.size(); i++) {
                assertTrue(result.startsWith(stable.get(i)), "step " + i + ": '" + stable.get(i)
                        + "' is not a prefix of '" + result + "'");
                assertTrue(i == 0 || stable.get(i).startsWith(stable.get(i - 1)), "the stable text only grows");
            }
            assertEquals(result, stable.get(stable.size() - 1), "once done, the stable text is the result's");
        }
    }
}
