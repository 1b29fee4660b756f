package io.earnidle.backend.verification;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.synth.ModelSynthesizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Teacher-forced verification against results the node's own engine produces, and against forged ones. */
class ResultVerifierTest {
    private static final float F32_MARGIN = TrustSettings.DEFAULT_MARGINS.get("f32");
    private static LlamaModel model;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(ByteBuffer.wrap(ModelSynthesizer.tinyBytes(1L)));
    }

    private static GenerationRequest request(Sampling s, int maxTokens) {
        return new GenerationRequest("the quick brown fox", null, true, maxTokens, s);
    }

    @Test
    void honestGreedyResultPasses() {
        GenerationRequest r = request(Sampling.greedy(), 24);
        GenerationResult honest = model.generate(r);
        ResultVerifier.Verdict v = ResultVerifier.verify(model, r, honest.tokenIds(), honest.text(), F32_MARGIN);
        assertTrue(v.passed(), v.reason());
        assertEquals(honest.tokenIds().length, v.tokensChecked());
        assertEquals(0, v.withinMargin(), "the same engine picks the same tokens");
    }

    @Test
    void honestSampledResultPasses() {
        GenerationRequest r = request(new Sampling(0.9f, 40, 0.95f, 1234L), 24);
        GenerationResult honest = model.generate(r);
        GenerationResult greedy = model.generate(request(Sampling.greedy(), 24));
        assertFalse(Arrays.equals(honest.tokenIds(), greedy.tokenIds()), "the draw must differ from greedy");
        ResultVerifier.Verdict v = ResultVerifier.verify(model, r, honest.tokenIds(), honest.text(), F32_MARGIN);
        assertTrue(v.passed(), v.reason());
        assertEquals(honest.tokenIds().length, v.tokensChecked());
        // the same tokens under another seed are not what that seed's sampler picks
        GenerationRequest otherSeed = request(new Sampling(0.9f, 40, 0.95f, 99L), 24);
        assertFalse(ResultVerifier.verify(model, otherSeed, honest.tokenIds(), honest.text(), F32_MARGIN).passed());
    }

    @Test
    void randomTokenIdsFail() {
        GenerationRequest r = request(Sampling.greedy(), 24);
        Random rnd = new Random(5);
        int[] forged = new int[24];
        for (int i = 0; i < forged.length; i++) {
            forged[i] = rnd.nextInt(model.vocabSize());
        }
        String text = model.tokenizer().decode(forged);
        ResultVerifier.Verdict v = ResultVerifier.verify(model, r, forged, text, F32_MARGIN);
        assertFalse(v.passed());
        assertTrue(v.reason().contains("is not what the model gives"), v.reason());
    }

    @Test
    void oneWrongTokenInAnHonestResultFails() {
        GenerationRequest r = request(Sampling.greedy(), 24);
        GenerationResult honest = model.generate(r);
        int[] forged = honest.tokenIds().clone();
        int k = forged.length / 2;
        forged[k] = (forged[k] + 1) % model.vocabSize();
        ResultVerifier.Verdict v = ResultVerifier.verify(model, r, forged, model.tokenizer().decode(forged),
                F32_MARGIN);
        assertFalse(v.passed());
        assertEquals(k, v.tokensChecked(), "the tokens before the wrong one pass");
    }

    @Test
    void textMustBeTheDetokenizedIds() {
        GenerationRequest r = request(Sampling.greedy(), 24);
        GenerationResult honest = model.generate(r);
        ResultVerifier.Verdict v = ResultVerifier.verify(model, r, honest.tokenIds(), honest.text() + "!",
                F32_MARGIN);
        assertFalse(v.passed());
        assertTrue(v.reason().contains("text"), v.reason());
    }

    @Test
    void resultMustEndWhereGenerationEnds() {
        GenerationRequest r = request(Sampling.greedy(), 24);
        GenerationResult honest = model.generate(r);
        assertEquals(24, honest.tokenIds().length, "this prompt runs to max_tokens on the tiny model");
        int[] shorter = Arrays.copyOf(honest.tokenIds(), 23);
        assertFalse(ResultVerifier.verify(model, r, shorter, model.tokenizer().decode(shorter), F32_MARGIN)
                .passed(), "a result cut short of max_tokens without a stop");
        GenerationRequest fewer = request(Sampling.greedy(), 23);
        assertFalse(ResultVerifier.verify(model, fewer, honest.tokenIds(), honest.text(), F32_MARGIN).passed(),
                "more tokens than max_tokens");
    }
}
