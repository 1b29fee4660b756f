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
        // far more tokens than max_tokens: judged as running past it, not as a forward pass beyond the KV cache
        GenerationRequest few = request(Sampling.greedy(), 4);
        ResultVerifier.Verdict v = ResultVerifier.verify(model, few, honest.tokenIds(), honest.text(), F32_MARGIN);
        assertFalse(v.passed());
        assertTrue(v.reason().startsWith("generation ends after 4 tokens"), v.reason());
    }

    /**
     * The backend verifies with the Vector API kernels (batched, another summation order): honest greedy and sampled
     * results of the node's scalar engine on a Q4_0 model (output longer than one batch of output positions, so the
     * verifier runs several batched passes) pass, and a forged token still fails.
     */
    @Test
    void honestResultsOfTheScalarEnginePassTheVectorVerifier(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path file = dir.resolve("q4_0.gguf");
        io.earnidle.node.synth.ModelSynthesizer.write(file, new io.earnidle.node.synth.SynthShape("test-256", 256, 512,
                2, 4, 2, 0, 256, 500000f, true, false), io.earnidle.node.synth.SynthFileType.Q4_0, 3, null);
        LlamaModel node = LlamaModel.load(file);
        LlamaModel verifier = LlamaModel.load(file, io.earnidle.backend.verification.kernels.VerifierKernels.best());
        float margin = TrustSettings.DEFAULT_MARGINS.get("q4_0");
        int maxTokens = TeacherForcedEngine.OUTPUTS + 20;
        for (Sampling s : new Sampling[] {Sampling.greedy(), new Sampling(0.9f, 40, 0.95f, 77L)}) {
            GenerationRequest r = new GenerationRequest(null, new int[] {1, 40, 41, 42, 43}, false, maxTokens, s);
            GenerationResult honest = node.generate(r);
            assertTrue(honest.tokenIds().length > TeacherForcedEngine.OUTPUTS, "runs past one batch of outputs");
            ResultVerifier.Verdict v = ResultVerifier.verify(verifier, r, honest.tokenIds(), honest.text(), margin);
            assertTrue(v.passed(), v.reason());
            assertEquals(honest.tokenIds().length, v.tokensChecked());
            int[] forged = honest.tokenIds().clone();
            int k = forged.length - 2;
            forged[k] = (forged[k] + 97) % verifier.vocabSize();
            assertFalse(ResultVerifier.verify(verifier, r, forged, verifier.tokenizer().decode(forged), margin)
                    .passed());
        }
    }
}
