package io.earnidle.node.llama;

import io.earnidle.node.tokenizer.Tokenizer;

/**
 * A loaded model driven one token at a time (prefill = steps without output): what the generation loop
 * ({@link Generation}) needs of it. Steps may complete asynchronously (WebGPU maps a read-back buffer), so results
 * arrive through a {@link StepCallback}; synchronous models call it before {@link #step} returns. The JVM model runs
 * as one through {@link LlamaModelSteps}; the node's compute backends are {@code io.earnidle.node.engine.Engine}s,
 * stepped models with device resources.
 */
public interface SteppedModel {
    /** Step output: nothing (a prefill position that is not the last). */
    int OUT_NONE = 0;
    /** Step output: only the greedy token id (argmax, lowest id on ties); logits stay on the device. */
    int OUT_ARGMAX = 1;
    /** Step output: the full logits (sampling, repetition penalty, --logits-out); argmax is filled too. */
    int OUT_LOGITS = 2;
    /**
     * Step output: a token drawn on the device with the settings and uniform number given to {@link #nextDraw}
     * (only when {@link #samplesOnDevice} said yes); the id comes as {@code argmax}. An engine that cannot finish
     * the draw on the device (say the nucleus is wider than its candidate buffer) answers with the logits instead
     * ({@code argmax} -1) and the caller draws with the same uniform number.
     */
    int OUT_SAMPLE = 3;

    /** Result of a step: {@code argmax} is -1 for OUT_NONE; {@code logits} is null unless OUT_LOGITS. */
    interface StepCallback {
        void done(int argmax, float[] logits, String error);
    }

    /** Report name: "jvm-wasm-gc", "jvm", "wasm-simd", "wasm-simd-relaxed-mt2", "webgpu". */
    String name();

    LlamaConfig config();

    Tokenizer tokenizer();

    /** Prepares a sequence of up to {@code positions} positions (KV cache); previous positions are forgotten. */
    void begin(int positions);

    /** Runs {@code token} at position {@code pos} (positions fed in order from 0). */
    void step(int token, int pos, int output, StepCallback cb);

    /**
     * Most prompt tokens one {@link #prefill} call takes; 1 means the engine prefills token by token. Engines whose
     * batched prefill is not bit-identical to token-by-token steps say so in their counters (an engine's {@code counters()}).
     */
    default int maxPrefillBatch() {
        return 1;
    }

    /**
     * Runs {@code tokens[0 .. count)} at positions {@code pos .. pos+count-1} as one batch; {@code output} (as for
     * {@link #step}) applies to the last of them. The default runs one token and accepts only {@code count == 1}.
     */
    default void prefill(int[] tokens, int count, int pos, int output, StepCallback cb) {
        if (count != 1) {
            throw new IllegalArgumentException(name() + " prefills one token per call, asked for " + count);
        }
        step(tokens[0], pos, output, cb);
    }

    /**
     * Said right before an {@link #OUT_ARGMAX} {@link #step} or {@link #prefill}: at most {@code steps} further
     * OUT_ARGMAX steps may follow it, each fed the argmax of the one before (greedy decode up to max_tokens; a stop
     * may end it sooner). An engine that queues work on a device may start them before they are asked for (the
     * WebGPU engine's steps ahead); a call that does not continue the chain discards them. Default: ignored.
     */
    default void greedyStepsMayFollow(int steps) {
    }

    /** Whether this engine draws tokens with {@code s} on the device ({@link #OUT_SAMPLE}). */
    default boolean samplesOnDevice(Sampling s) {
        return false;
    }

    /**
     * Settings for the next {@link #OUT_SAMPLE} step: {@code u} in [0, 1) is the caller's seeded uniform draw,
     * {@code history[0 .. historyLength)} the tokens so far (repetition penalty), as {@link Sampler}.
     */
    default void nextDraw(Sampling s, double u, int[] history, int historyLength) {
        throw new UnsupportedOperationException(name() + " does not sample on the device");
    }
}
