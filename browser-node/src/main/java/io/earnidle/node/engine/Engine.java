package io.earnidle.node.engine;

import io.earnidle.node.llama.LlamaConfig;
import io.earnidle.node.tokenizer.Tokenizer;

import java.util.Map;

/**
 * A loaded model on one compute backend, driven one token at a time (prefill = steps without output). Steps may
 * complete asynchronously (WebGPU maps a read-back buffer), so results arrive through a {@link StepCallback};
 * synchronous engines call it before {@link #step} returns.
 */
public interface Engine {
    /** Step output: nothing (a prefill position that is not the last). */
    int OUT_NONE = 0;
    /** Step output: only the greedy token id (argmax, lowest id on ties); logits stay on the device. */
    int OUT_ARGMAX = 1;
    /** Step output: the full logits (sampling, repetition penalty, --logits-out); argmax is filled too. */
    int OUT_LOGITS = 2;

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

    /** Structural counters of the last decoded token and totals (engine-specific keys), for status/JSON. */
    Map<String, Object> counters();

    /** CPU threads a step keeps busy (the node's duty cycle charges a step's time once per thread). */
    default int threads() {
        return 1;
    }

    /** Frees device resources; the engine is unusable afterwards. */
    void close();
}
