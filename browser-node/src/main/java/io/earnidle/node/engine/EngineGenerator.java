package io.earnidle.node.engine;

import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.GenerationResult;

/**
 * Runs an {@link EngineGeneration} to its end, asynchronously: synchronous engines run in a loop (no recursion per
 * token), asynchronous ones continue from their callbacks. Used by {@code infer --engine} and the engine tests; the
 * node loop drives {@link EngineGeneration} itself, a slice of steps at a time; {@link
 * io.earnidle.node.llama.Generation#runNow} runs a synchronous model on the calling thread.
 */
public final class EngineGenerator {
    /** Outcome of a generation: {@code firstLogits} only when asked for; {@code error} non-null on failure. */
    public record Outcome(GenerationResult result, int[] promptIds, float[] firstLogits, String error) {
    }

    public interface Done {
        void done(Outcome outcome);
    }

    /** Prefill call budget when running to the end: large enough that batches reach the engine's maximum. */
    static final double BATCH_CALL_MS = 30_000;

    private final EngineGeneration g;
    private final Done done;
    // callback hand-off
    private boolean inStep;
    private boolean syncDone;
    private String cbError;

    private EngineGenerator(EngineGeneration g, Done done) {
        this.g = g;
        this.done = done;
    }

    /** Starts generating; {@code done} is called exactly once (possibly before this method returns). */
    public static void generate(Engine engine, GenerationRequest r, boolean wantFirstLogits, Done done) {
        EngineGeneration g;
        try {
            g = new EngineGeneration(engine, r, wantFirstLogits);
            g.setPrefillCallMs(BATCH_CALL_MS); // runs to the end: nothing to pause between calls
        } catch (RuntimeException e) {
            done.done(new Outcome(null, null, null, String.valueOf(e.getMessage())));
            return;
        }
        new EngineGenerator(g, done).pump();
    }

    private void pump() {
        while (true) {
            inStep = true;
            syncDone = false;
            g.step(error -> {
                cbError = error;
                if (inStep) {
                    syncDone = true;
                } else if (!afterStep()) {
                    pump();
                }
            });
            inStep = false;
            if (!syncDone || afterStep()) {
                return; // asynchronous engine (the callback continues), or finished
            }
        }
    }

    /** Returns true when the generation ended (and {@code done} was called). */
    private boolean afterStep() {
        if (cbError != null) {
            done.done(new Outcome(null, g.promptIdsUsed(), null, cbError));
            return true;
        }
        if (g.done()) {
            done.done(new Outcome(g.result(), g.promptIdsUsed(), g.firstLogits(), null));
            return true;
        }
        return false;
    }
}
