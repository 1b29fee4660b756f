package io.earnidle.node.engine;

import io.earnidle.node.llama.SteppedModel;

import java.util.Map;

/**
 * A loaded model on one compute backend: a {@link SteppedModel} (driven one token at a time by the generation loop,
 * {@link EngineGeneration}) that also reports counters, says how many threads a step keeps busy and frees its
 * device resources.
 */
public interface Engine extends SteppedModel {
    /** Structural counters of the last decoded token and totals (engine-specific keys), for status/JSON. */
    Map<String, Object> counters();

    /** CPU threads a step keeps busy (the node's duty cycle charges a step's time once per thread). */
    default int threads() {
        return 1;
    }

    /** Frees device resources; the engine is unusable afterwards. */
    void close();
}
