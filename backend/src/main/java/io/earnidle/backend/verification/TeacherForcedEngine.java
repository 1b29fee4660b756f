package io.earnidle.backend.verification;

import java.util.Map;

import io.earnidle.node.engine.Engine;
import io.earnidle.node.llama.LlamaConfig;
import io.earnidle.node.llama.Sampler;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.tokenizer.Tokenizer;

/**
 * An {@link Engine} that answers every token-producing step with the node's claimed token instead of its own, after
 * checking the claim against its own logits (the wrapped engine's forward pass, fed the claimed tokens: teacher
 * forcing). Driven by the node's own generation loop ({@link io.earnidle.node.engine.EngineGeneration}), so prefill,
 * the seeded uniform draws, EOS/EOT, stop strings, max_tokens and the result text are exactly the node's.
 *
 * <p>A claimed token passes when it is the token the sampler picks from the verifier's logits (greedy: the argmax;
 * sampled: the draw with the generation's seeded uniform number), or when its logit is within {@code margin} of the
 * picked token's logit: another legitimate engine's logits differ from these by rounding, which can flip a near tie.
 */
final class TeacherForcedEngine implements Engine {
    private final Engine inner;
    private final int[] claimed;
    private final float margin;
    private int produced;
    private int withinMargin;
    private String failure;
    private Sampling drawSampling;
    private double drawU;
    private int[] drawHistory;
    private int drawHistoryLength;

    TeacherForcedEngine(Engine inner, int[] claimed, float margin) {
        this.inner = inner;
        this.claimed = claimed.clone();
        this.margin = margin;
    }

    /** Claimed tokens checked (and fed) so far. */
    int produced() {
        return produced;
    }

    /** Of those, how many were accepted by the margin rule rather than being the picked token. */
    int withinMargin() {
        return withinMargin;
    }

    /** Why the result was rejected, or null. */
    String failure() {
        return failure;
    }

    @Override
    public String name() {
        return "verifier(" + inner.name() + ")";
    }

    @Override
    public LlamaConfig config() {
        return inner.config();
    }

    @Override
    public Tokenizer tokenizer() {
        return inner.tokenizer();
    }

    @Override
    public void begin(int positions) {
        inner.begin(positions);
    }

    /** Every non-argmax draw comes here with its uniform number, so the check can redo it on the verifier's logits. */
    @Override
    public boolean samplesOnDevice(Sampling s) {
        return true;
    }

    @Override
    public void nextDraw(Sampling s, double u, int[] history, int historyLength) {
        drawSampling = s;
        drawU = u;
        drawHistory = history;
        drawHistoryLength = historyLength;
    }

    @Override
    public void step(int token, int pos, int output, StepCallback cb) {
        if (output == OUT_NONE) {
            inner.step(token, pos, OUT_NONE, cb);
            return;
        }
        inner.step(token, pos, OUT_LOGITS, (argmax, logits, error) -> {
            if (error != null) {
                cb.done(-1, null, error);
                return;
            }
            String bad = check(output, argmax, logits);
            if (bad != null) {
                failure = bad;
                cb.done(-1, null, bad);
                return;
            }
            cb.done(claimed[produced++], null, null);
        });
    }

    /** Checks claimed token number {@link #produced} against the logits; returns why it fails, or null. */
    private String check(int output, int argmax, float[] logits) {
        int i = produced;
        if (i >= claimed.length) {
            return "the result ends after " + claimed.length + " tokens but generation continues";
        }
        int c = claimed[i];
        if (c < 0 || c >= logits.length) {
            return "token_ids[" + i + "] = " + c + " is outside the vocabulary";
        }
        int picked = output == OUT_SAMPLE
                ? new Sampler(drawSampling).sample(logits, drawHistory, drawHistoryLength, drawU)
                : argmax;
        if (c == picked) {
            return null;
        }
        float gap = logits[picked] - logits[c];
        if (gap <= margin) {
            withinMargin++;
            return null;
        }
        return "token_ids[" + i + "] = " + c + " is not what the model gives: the verifier picks " + picked
                + ", whose logit is " + gap + " above it (margin " + margin + ")";
    }

    @Override
    public Map<String, Object> counters() {
        return inner.counters();
    }

    @Override
    public void close() {
        inner.close();
    }
}
