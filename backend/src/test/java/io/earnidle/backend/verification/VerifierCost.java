package io.earnidle.backend.verification;

import java.nio.ByteBuffer;

import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.synth.ModelSynthesizer;

/**
 * The verifier's cost on the synthetic tiny model (docs/trust.md): verifies an honest result of up to
 * {@code args[0]} tokens 200 times after a warm-up, greedy and sampled, and prints the rate next to the JVM engine's
 * own generation of it. Not a test: run it by hand on one core, e.g. {@code taskset -c 1 java
 * -XX:ActiveProcessorCount=1 -cp backend/target/classes:backend/target/test-classes:browser-node/target/classes
 * io.earnidle.backend.verification.VerifierCost 64}.
 */
public final class VerifierCost {
    private static final int WARM_UP = 50;
    private static final int REPS = 200;
    private static final float MARGIN = TrustSettings.DEFAULT_MARGINS.get("f32");

    private VerifierCost() {
    }

    public static void main(String[] args) {
        LlamaModel model = LlamaModel.load(ByteBuffer.wrap(ModelSynthesizer.tinyBytes(1L)));
        int maxTokens = Integer.parseInt(args[0]);
        for (String kind : new String[] {"greedy", "sampled"}) {
            Sampling s = kind.equals("greedy") ? Sampling.greedy() : new Sampling(0.9f, 40, 0.95f, 1234L);
            GenerationRequest r = new GenerationRequest("the quick brown fox jumps over the lazy dog", null, true,
                    maxTokens, s);
            GenerationResult honest = model.generate(r);
            int prompt = model.promptIds(r).length;
            int out = honest.tokenIds().length;
            for (int i = 0; i < WARM_UP; i++) {
                ResultVerifier.verify(model, r, honest.tokenIds(), honest.text(), MARGIN);
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < REPS; i++) {
                if (!ResultVerifier.verify(model, r, honest.tokenIds(), honest.text(), MARGIN).passed()) {
                    throw new AssertionError("an honest result failed");
                }
            }
            double sec = (System.nanoTime() - t0) / 1e9;
            long g0 = System.nanoTime();
            for (int i = 0; i < REPS; i++) {
                model.generate(r);
            }
            double genSec = (System.nanoTime() - g0) / 1e9;
            System.out.printf("%s: prompt %d + output %d tokens; verify %.3f ms/result = %.0f output tokens/s"
                            + " (%.0f positions/s); generate %.3f ms/result%n", kind, prompt, out,
                    sec * 1000 / REPS, out * REPS / sec, (prompt + out) * REPS / sec, genSec * 1000 / REPS);
        }
    }
}
