package io.earnidle.node.engine;

import io.earnidle.node.llama.ContextLengthExceededException;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.GenerationResult;

import java.util.function.Consumer;

/**
 * Runs an {@link EngineGeneration} to its end, asynchronously: synchronous engines run in a loop (no recursion per
 * token), asynchronous ones continue from their callbacks. Used by {@code infer --engine} and the engine tests; the
 * node loop drives {@link EngineGeneration} itself, a slice of steps at a time; {@link #generateNow} runs a
 * synchronous engine on the calling thread ({@link io.earnidle.node.llama.LlamaModel#generate}).
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

    /**
     * Runs the generation of a synchronous engine (one that answers every step before returning) to its end on this
     * thread. {@code firstLogits}, when not null, receives a copy of the first generated position's logits (before
     * any repetition penalty).
     *
     * @throws IllegalArgumentException       a bad request (as {@link EngineGeneration}'s constructor)
     * @throws ContextLengthExceededException prompt + max_tokens beyond the model's context
     * @throws IllegalStateException          the engine failed a step or answered asynchronously
     */
    public static GenerationResult generateNow(Engine engine, GenerationRequest r, Consumer<float[]> firstLogits) {
        EngineGeneration g = new EngineGeneration(engine, r, firstLogits != null);
        String[] error = new String[1];
        boolean[] answered = new boolean[1];
        while (!g.done()) {
            answered[0] = false;
            g.step(e -> {
                error[0] = e;
                answered[0] = true;
            });
            if (!answered[0]) {
                throw new IllegalStateException(engine.name() + " answered a step asynchronously");
            }
            if (error[0] != null) {
                throw new IllegalStateException(error[0]);
            }
        }
        if (firstLogits != null) {
            firstLogits.accept(g.firstLogits());
        }
        return g.result();
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
