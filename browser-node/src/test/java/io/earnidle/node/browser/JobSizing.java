package io.earnidle.node.browser;

import io.earnidle.node.loop.DutyCycle;
import io.earnidle.node.loop.JobSpec;
import io.earnidle.node.loop.NodeLoop;
import io.earnidle.node.synth.SynthShape;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sizes the "long" jobs of the browser tests from the speed measured on this machine (issue #17: no test depends on
 * the machine's speed). A short probe job on the long model, at a full CPU share, gives the engine's decode time per
 * token; a long job then gets as many tokens as its wanted wall time needs at its share, so a 3× faster or slower
 * machine runs it for the same time. The long model's context admits the largest job a node accepts
 * ({@link JobSpec#MAX_TOKENS_LIMIT}), and greedy decoding from {@link #PROMPT} never meets an end token within it
 * (checked on the JVM: 4090 tokens), so a job is never cut short.
 */
final class JobSizing {
    static final String PROMPT = "Hello";
    /** The ~7 MB F32 long model: 2 layers, dim 256, FFN 768, 8 heads, 4 KV heads. */
    static final SynthShape LONG_SHAPE = SynthShape.TINY.withSizes(256, 768, 2, 8, 4)
            .withContext(JobSpec.MAX_TOKENS_LIMIT + 8);
    static final long LONG_SEED = 3;
    /** Tokens of a job on the long model at most: the node's limit less the prompt ("Hello" after a BOS). */
    static final int MAX_LONG_TOKENS = JobSpec.MAX_TOKENS_LIMIT - 2;
    /** Tokens of a probe job: enough decode time to measure (tens of ms at the fastest), short at the slowest. */
    static final int PROBE_TOKENS = 32;
    /**
     * How long a job the test pauses or stops must run: the pause must reach the node while more than
     * {@link NodeLoop#FINISH_WITHIN_MS} of the job is left (else the node finishes it first), and the test reacts to
     * a "running" status within a few hundred ms (a status poll and a WebDriver call). On a shared machine the speed
     * can change several-fold between the probe and the job (seen: 0.36 to 2 ms a token on the same engine), so the
     * job is sized for twenty times the finishing window: a wide margin either way.
     */
    static final double OUTLAST_MS = 20 * NodeLoop.FINISH_WITHIN_MS;
    /** The tokens a test sees done (in a "running" status) before it pauses or stops the job. */
    static final int TOKENS_BEFORE_ACTING = 3;

    private JobSizing() {
    }

    /** The decode time per token (ms, wall) of a probe's submitted result, run at a full CPU share. */
    static double msPerToken(Map<String, Object> probeResult) {
        int count = ((List<?>) probeResult.get("token_ids")).size();
        assertEquals(PROBE_TOKENS, count, "the probe ran all its tokens (no end token)");
        double decodeMs = ((Number) ((Map<?, ?>) probeResult.get("timing")).get("decode_ms")).doubleValue();
        assertTrue(decodeMs > 0, "decode time measured: " + probeResult.get("timing"));
        double ms = decodeMs / (count - 1); // the first token comes with the prefill
        System.out.printf("probe on %s: %.3f ms a token%n", probeResult.get("engine"), ms);
        return ms;
    }

    /**
     * Tokens for a job on the long model that runs at least {@code wallMs} at {@code share} after the
     * {@link #TOKENS_BEFORE_ACTING} a test waits for, given the measured
     * {@code msPerToken} (at a full share; the duty cycle stretches it by 1/share). Fails, saying why, when the
     * machine is so fast that even the largest job is shorter: then the share must be lower ({@link #shareFor}).
     */
    static int tokensFor(double wallMs, double share, double msPerToken) {
        double need = TOKENS_BEFORE_ACTING + Math.ceil(wallMs * share / msPerToken);
        assertTrue(need <= MAX_LONG_TOKENS, "at " + msPerToken + " ms a token, " + need + " tokens are needed for "
                + wallMs + " ms at a share of " + share + ", more than " + MAX_LONG_TOKENS + "; lower the share");
        return (int) Math.max(PROBE_TOKENS, need);
    }

    /**
     * The CPU share at most {@code wanted} at which the largest job lasts {@code wallMs}: {@code wanted} on an
     * ordinary machine, lower on one so fast that it would end the job too soon.
     */
    static double shareFor(double wallMs, double wanted, double msPerToken) {
        double share = Math.min(wanted, (MAX_LONG_TOKENS - TOKENS_BEFORE_ACTING - 1) * msPerToken / wallMs);
        assertTrue(share >= DutyCycle.MIN_SHARE, "at " + msPerToken + " ms a token no job on the long model lasts "
                + wallMs + " ms even at the lowest share; the test needs a bigger long model");
        return share;
    }
}
