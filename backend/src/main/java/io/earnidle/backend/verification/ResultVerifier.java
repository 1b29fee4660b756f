package io.earnidle.backend.verification;

import java.util.Arrays;

import io.earnidle.node.llama.Generation;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;

/**
 * Teacher-forced verification of a node's result: the job's model runs on the node's own Java engine code over
 * prompt + claimed output as batched forward passes, with the model's {@link io.earnidle.node.llama.ops.TensorOps}
 * (the backend loads verifier models with {@link io.earnidle.backend.verification.kernels.VerifierKernels#best()}:
 * Vector API kernels when the JVM has them), driven by the node's generation loop ({@link Generation}), and every
 * claimed token is checked against the verifier's logits ({@link TeacherForcedEngine}). The result passes when every token passes, the
 * generation ends exactly where the claimed tokens end (EOS/EOT, a stop string or max_tokens, as the node's loop
 * decides), and the text equals the loop's text for those tokens.
 */
public final class ResultVerifier {
    /** The outcome: {@code reason} is null when passed; {@code tokensChecked} the claimed tokens run. */
    public record Verdict(boolean passed, String reason, int tokensChecked, int withinMargin) {
    }

    private ResultVerifier() {
    }

    /**
     * Verifies {@code claimedIds} / {@code claimedText} as the answer to {@code request} on {@code model}, with
     * {@code margin} the largest accepted gap between the picked token's logit and a claimed token's logit.
     */
    public static Verdict verify(LlamaModel model, GenerationRequest request, int[] claimedIds, String claimedText,
                                 float margin) {
        if (claimedIds.length == 0) {
            return new Verdict(false, "the result has no tokens", 0, 0);
        }
        TeacherForcedEngine engine = new TeacherForcedEngine(model, claimedIds, margin);
        GenerationResult result;
        try {
            result = Generation.runNow(engine, request, null);
        } catch (IllegalStateException | IllegalArgumentException e) {
            String why = engine.failure() != null ? engine.failure() : String.valueOf(e.getMessage());
            return new Verdict(false, why, engine.produced(), engine.withinMargin());
        }
        if (result.tokenIds().length != claimedIds.length) {
            return new Verdict(false, "generation ends after " + result.tokenIds().length + " tokens (end of "
                    + "generation, a stop string or max_tokens) but the result has " + claimedIds.length,
                    engine.produced(), engine.withinMargin());
        }
        if (!Arrays.equals(result.tokenIds(), claimedIds)) {
            throw new IllegalStateException("teacher forcing fed other tokens than the claimed ones");
        }
        if (!result.text().equals(claimedText)) {
            return new Verdict(false, "text is not the detokenized token_ids", engine.produced(),
                    engine.withinMargin());
        }
        return new Verdict(true, null, engine.produced(), engine.withinMargin());
    }
}
