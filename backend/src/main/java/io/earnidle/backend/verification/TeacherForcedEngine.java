package io.earnidle.backend.verification;

import java.util.LinkedHashMap;
import java.util.Map;

import io.earnidle.node.engine.Engine;
import io.earnidle.node.llama.LlamaConfig;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampler;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.tokenizer.Tokenizer;

/**
 * An {@link Engine} that answers every token-producing step with the node's claimed token instead of its own, after
 * checking the claim against its own logits (teacher forcing: the model is fed the claimed tokens). Driven by the
 * node's own generation loop ({@link io.earnidle.node.llama.Generation}), so the prompt's tokens, the seeded uniform
 * draws, EOS/EOT, stop strings, max_tokens and the result text are exactly the node's.
 *
 * <p>The forward passes are batched: the loop's prompt steps only record the prompt; at the first token-producing
 * step the model runs prompt + claimed output (the tokens the loop will feed, since it is fed the claimed ones) in
 * batched passes of up to {@link #BATCH} positions
 * ({@link #OUTPUTS} of them output positions) ({@link LlamaModel#forward(LlamaModel.State, int[], int, int,
 * int, float[])}), keeping the logits of the output positions; each step then answers from them. With the plain
 * Java ops this is bit for bit the token-by-token pass.
 *
 * <p>A claimed token passes when it is the token the sampler picks from the verifier's logits (greedy: the argmax;
 * sampled: the draw with the generation's seeded uniform number), or when its logit is within {@code margin} of the
 * picked token's logit: another legitimate engine's logits differ from these by rounding, which can flip a near tie.
 */
final class TeacherForcedEngine implements Engine {
    /** Most positions per batched pass (bounds the activations). */
    static final int BATCH = 256;
    /** Most output positions per batched pass (bounds the kept logits: OUTPUTS × vocab floats). */
    static final int OUTPUTS = 128;

    private final LlamaModel model;
    private final int[] claimed;
    private final float margin;
    private LlamaModel.State state;
    private int positions;
    private int[] prompt = new int[0];
    private int promptLength;
    private int[] sequence;
    private int run;
    private float[] logits;
    private int logitsFirst;
    private int logitsCount;
    private int produced;
    private int withinMargin;
    private String failure;
    private Sampling drawSampling;
    private double drawU;
    private int[] drawHistory;
    private int drawHistoryLength;

    TeacherForcedEngine(LlamaModel model, int[] claimed, float margin) {
        this.model = model;
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
        return "verifier(jvm)";
    }

    @Override
    public LlamaConfig config() {
        return model.config();
    }

    @Override
    public Tokenizer tokenizer() {
        return model.tokenizer();
    }

    @Override
    public void begin(int positions) {
        this.positions = positions;
        state = model.new State(positions);
        prompt = new int[positions];
        promptLength = 0;
        sequence = null;
        run = 0;
        logitsCount = 0;
    }

    /** The whole prompt in one call: prompt steps only record their tokens. */
    @Override
    public int maxPrefillBatch() {
        return Integer.MAX_VALUE;
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
    public void prefill(int[] tokens, int count, int pos, int output, StepCallback cb) {
        if (pos != promptLength || sequence != null) {
            cb.done(-1, null, "prompt position " + pos + " out of order");
            return;
        }
        System.arraycopy(tokens, 0, prompt, pos, count);
        promptLength += count;
        answer(output, cb);
    }

    @Override
    public void step(int token, int pos, int output, StepCallback cb) {
        if (sequence == null) {
            prefill(new int[] {token}, 1, pos, output, cb);
            return;
        }
        if (pos != promptLength + produced - 1 || token != claimed[produced - 1]) {
            cb.done(-1, null, "the loop fed token " + token + " at " + pos + ", not the claimed one");
            return;
        }
        answer(output, cb);
    }

    private void answer(int output, StepCallback cb) {
        if (output == OUT_NONE) {
            cb.done(-1, null, null);
            return;
        }
        String bad = check(output);
        if (bad != null) {
            failure = bad;
            cb.done(-1, null, bad);
            return;
        }
        cb.done(claimed[produced++], null, null);
    }

    /**
     * The input positions: the prompt, then the claimed tokens the loop feeds (all but the last), up to the first
     * claimed id outside the vocabulary (its check fails before it would be fed) and at most up to the generation's
     * positions (prompt + max_tokens: a longer result fails when the loop stops at max_tokens).
     */
    private int[] sequence() {
        int fed = 0;
        int most = Math.min(claimed.length - 1, positions - promptLength);
        while (fed < most && claimed[fed] >= 0 && claimed[fed] < model.vocabSize()) {
            fed++;
        }
        int[] seq = new int[promptLength + fed];
        System.arraycopy(prompt, 0, seq, 0, promptLength);
        System.arraycopy(claimed, 0, seq, promptLength, fed);
        return seq;
    }

    /** The verifier's logits for claimed token number {@code i} (the position before it), running batches as needed. */
    private float[] logitsOf(int i) {
        if (sequence == null) {
            sequence = sequence();
        }
        int vocab = model.vocabSize();
        int position = promptLength - 1 + i;
        while (run <= position) {
            int firstOutput = Math.max(run, promptLength - 1);
            int n = Math.min(Math.min(BATCH, sequence.length - run), firstOutput - run + OUTPUTS);
            int from = Math.max(0, Math.min(n, promptLength - 1 - run));
            if (logits == null || logits.length < (n - from) * vocab) {
                logits = new float[(n - from) * vocab];
            }
            model.forward(state, java.util.Arrays.copyOfRange(sequence, run, run + n), n, run, from, logits);
            logitsFirst = run + from - (promptLength - 1);
            logitsCount = n - from;
            run += n;
        }
        float[] row = new float[vocab];
        System.arraycopy(logits, (i - logitsFirst) * vocab, row, 0, vocab);
        return row;
    }

    /** Checks claimed token number {@link #produced}; returns why it fails, or null. */
    private String check(int output) {
        int i = produced;
        if (i >= claimed.length) {
            return "the result ends after " + claimed.length + " tokens but generation continues";
        }
        int c = claimed[i];
        if (c < 0 || c >= model.vocabSize()) {
            return "token_ids[" + i + "] = " + c + " is outside the vocabulary";
        }
        float[] row = logitsOf(i);
        int picked = output == OUT_SAMPLE
                ? new Sampler(drawSampling).sample(row, drawHistory, drawHistoryLength, drawU)
                : Sampler.argmax(row);
        if (c == picked) {
            return null;
        }
        float gap = row[picked] - row[c];
        if (gap <= margin) {
            withinMargin++;
            return null;
        }
        return "token_ids[" + i + "] = " + c + " is not what the model gives: the verifier picks " + picked
                + ", whose logit is " + gap + " above it (margin " + margin + ")";
    }

    @Override
    public Map<String, Object> counters() {
        return new LinkedHashMap<>();
    }

    @Override
    public void close() {
        state = null;
        logits = null;
    }
}
