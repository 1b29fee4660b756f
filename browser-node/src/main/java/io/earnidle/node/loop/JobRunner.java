package io.earnidle.node.loop;

import io.earnidle.node.engine.Engine;
import io.earnidle.node.engine.EngineGeneration;
import io.earnidle.node.llama.GenerationResult;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Runs a job's generation on an engine a slice at a time under the CPU share: steps until the slice
 * ({@link DutyCycle#SLICE_MS}) is used up, then rests as the {@link DutyCycle} says, with a yield to the event loop
 * between slices so control messages are handled within one. Synchronous engines step in a loop; an asynchronous
 * engine's callback continues the slice. A cancel (a newer {@link Epoch}) makes a step's callback a no-op; a new job
 * on an engine still finishing a cancelled step starts when that step ends.
 */
final class JobRunner {
    /** What the runner tells the loop. */
    interface Listener {
        /** The generation started: a "running" status now. */
        void started();

        /** A slice ended at {@code nowMs}: a "running" status if one is due. */
        void progress(double nowMs);

        /** A step ended at {@code nowMs} with {@code tokensDone} tokens (the lease's heartbeat, if one is due). */
        void stepped(int tokensDone, double nowMs);

        /** The generation ended: submit it. */
        void done(GenerationResult result, String engineName);

        /** The job failed: a step on {@code engine}, or before any step (engine null). */
        void failed(String error, Engine engine);

        /** The job to run once a busy engine is free (null: none any more). */
        JobSpec waitingJob();
    }

    private final NodeHost host;
    private final DutyCycle duty;
    private final Epoch epoch;
    private final Listener listener;
    private EngineGeneration generation;
    /** The engine whose step is in flight (asynchronous engines), even for a generation cancelled meanwhile. */
    private Engine engineInFlight;
    /** Runs once {@link #engineInFlight} is idle again (a new job on an engine still finishing a cancelled step). */
    private Runnable whenEngineIdle;
    private double sliceStartMs;
    private boolean inStep;
    private boolean stepSync;
    private String stepError;
    private double jobBusyMs;
    private int jobSteps;
    private double decodeStartMs = Double.NaN;
    private Double tokensPerS;

    JobRunner(NodeHost host, DutyCycle duty, Epoch epoch, Listener listener) {
        this.host = host;
        this.duty = duty;
        this.epoch = epoch;
        this.listener = listener;
    }

    /** Forgets the last job's step times (a new job). */
    void reset() {
        generation = null;
        jobBusyMs = 0;
        jobSteps = 0;
        decodeStartMs = Double.NaN;
    }

    /** Drops the generation (the caller bumps the epoch, so a step in flight comes back to nothing). */
    void cancel() {
        generation = null;
    }

    boolean running() {
        return generation != null;
    }

    /** The engine of the running generation, or null. */
    Engine engine() {
        return generation == null ? null : generation.engine();
    }

    /** Decode speed of the current or last job (wall time, rests included), or null before its second token. */
    Double tokensPerS() {
        return tokensPerS;
    }

    /** The running generation's progress as the status reports it, or null. */
    Map<String, Object> progress() {
        if (generation == null) {
            return null;
        }
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("tokens_done", generation.tokensDone());
        p.put("max_tokens", generation.maxTokens());
        p.put("prompt_tokens", generation.promptLength());
        p.put("prefill_done", generation.prefilled());
        return p;
    }

    /** The running generation's token ids so far (empty when none runs). */
    int[] outputSoFar() {
        return generation == null ? new int[0] : generation.outputSoFar();
    }

    /** The running generation's text so far that its result's text will start with ({@link Generation#stableTextSoFar}). */
    String textSoFar() {
        return generation == null ? "" : generation.stableTextSoFar();
    }

    /** Whether the running job would end within {@code withinMs}, judged by its own step times so far. */
    boolean canFinishWithin(double withinMs) {
        if (generation == null || jobSteps == 0) {
            return false;
        }
        double perStep = jobBusyMs / jobSteps;
        double wall = generation.stepsLeft() * perStep / duty.share();
        return wall <= withinMs;
    }

    /** Starts {@code job} on {@code engine} (a job the engine cannot run, e.g. beyond its context, fails). */
    void start(JobSpec job, Engine engine) {
        if (engineInFlight == engine) {
            // a cancelled job's step is still running on this engine: start when it ends
            int ep = epoch.current();
            whenEngineIdle = () -> {
                JobSpec waiting = listener.waitingJob();
                if (epoch.is(ep) && waiting != null && generation == null) {
                    start(waiting, engine);
                }
            };
            return;
        }
        try {
            generation = new EngineGeneration(engine, job.toRequest(), false);
        } catch (RuntimeException e) {
            listener.failed(NodeLoop.message(e), null);
            return;
        }
        duty.setParallelism(engine.threads());
        tokensPerS = null;
        listener.started();
        int ep = epoch.current();
        host.schedule(0, () -> slice(ep));
    }

    private void slice(int ep) {
        if (!epoch.is(ep) || generation == null || generation.inFlight()) {
            return;
        }
        sliceStartMs = host.nowMs();
        runSteps(ep, generation);
    }

    /**
     * Runs steps until the slice is used up: a loop for synchronous engines; an asynchronous engine's callback
     * continues the slice (a cancel in the meantime makes it a no-op).
     */
    private void runSteps(int ep, EngineGeneration g) {
        while (true) {
            boolean wasPrefill = g.prefilled() < g.promptLength();
            Engine e = g.engine();
            inStep = true;
            stepSync = false;
            engineInFlight = e;
            g.step(error -> {
                if (engineInFlight == e) {
                    engineInFlight = null;
                }
                stepError = error;
                if (inStep) {
                    stepSync = true;
                    return;
                }
                if (whenEngineIdle != null && engineInFlight == null) {
                    Runnable r = whenEngineIdle;
                    whenEngineIdle = null;
                    host.schedule(0, r);
                }
                if (afterStep(ep, g, wasPrefill)) {
                    runSteps(ep, g);
                }
            });
            inStep = false;
            if (!stepSync || !afterStep(ep, g, wasPrefill)) {
                return;
            }
        }
    }

    /** Accounts for a finished step; true when the slice goes on with another step. */
    private boolean afterStep(int ep, EngineGeneration g, boolean wasPrefill) {
        if (!epoch.is(ep) || generation != g) {
            return false; // cancelled while the step ran
        }
        if (stepError != null) {
            generation = null;
            listener.failed(stepError + " (engine " + g.engine().name() + ")", g.engine());
            return false;
        }
        jobSteps++;
        double end = host.nowMs();
        if (wasPrefill && g.prefilled() == g.promptLength()) {
            decodeStartMs = end;
        }
        listener.stepped(g.tokensDone(), end);
        if (generation != g) {
            return false; // the step's report dropped the job (its lease is gone)
        }
        if (!g.done() && end - sliceStartMs < DutyCycle.SLICE_MS) {
            return true;
        }
        endSlice(ep, g, end);
        return false;
    }

    private void endSlice(int ep, EngineGeneration g, double end) {
        double t0 = sliceStartMs;
        jobBusyMs += end - t0;
        double sleep = duty.afterSlice(t0, end);
        if (!Double.isNaN(decodeStartMs) && end > decodeStartMs && g.tokensDone() > 1) {
            tokensPerS = (g.tokensDone() - 1) * 1000.0 / (end - decodeStartMs);
        }
        if (g.done()) {
            GenerationResult result = g.result();
            generation = null;
            listener.done(result, g.engine().name());
            return;
        }
        listener.progress(end);
        host.schedule((long) Math.floor(sleep), () -> slice(ep));
    }
}
