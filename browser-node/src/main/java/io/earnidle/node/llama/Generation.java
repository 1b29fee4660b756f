package io.earnidle.node.llama;

import io.earnidle.node.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The generation loop (prefill, sampling chain, EOS/EOT, stop strings) of every {@link SteppedModel}: the JVM reference
 * ({@link LlamaModel#generate}) and every engine of the node (JVM, WASM-SIMD, WebGPU: {@code
 * io.earnidle.node.engine.EngineGeneration} is this loop over an {@code Engine}), one forward pass per {@link #step}:
 * the node loop runs a few steps per work slice and can drop the generation between two steps (pause/stop). A step may complete asynchronously (WebGPU); its callback runs
 * exactly once, before {@code step} returns for synchronous engines. Greedy requests without repetition penalty ask
 * the engine for the argmax only; sampled requests are drawn on the device when the engine can
 * ({@link SteppedModel#samplesOnDevice}, with the uniform number from this generation's seeded {@link Sampler}, so the
 * random stream is the same either way); everything else asks for the logits and samples in Java.
 *
 * <p>Prefill goes in batches when the engine has a batched prefill ({@link SteppedModel#maxPrefillBatch}): the first
 * call runs one token, later calls as many as fit {@link #setPrefillCallMs the time budget of one call} at the
 * measured speed, so that a pause or stop between two steps still lands quickly.
 *
 * <p>Timings: prefill is the time from the first step to the end of the last prompt step, decode the time from
 * there to the end (wall time of the steps, including an asynchronous engine's device time).
 */
public class Generation {
    public interface StepDone {
        /** {@code error} is null when the step succeeded. */
        void done(String error);
    }

    private final SteppedModel engine;
    private final Sampling sampling;
    private final Sampler sampler;
    private final int[] prompt;
    private final int maxTokens;
    private final boolean wantFirstLogits;
    private final boolean argmaxOnly;
    private final boolean deviceSampling;
    private double prefillCallMs = 500;
    private int prefillBatch = 1;
    private double pendingU;
    private final int[] history;
    private final int[] out;
    private int pos;
    private int n;
    private boolean inFlight;
    private boolean finished;
    private boolean stoppedOnEog;
    private String stopText;
    private float[] firstLogits;
    private long startNanos = -1;
    private long prefillEndNanos = -1;
    private long endNanos = -1;

    /**
     * Validates the request and prepares the engine's state (KV cache) for it.
     *
     * @throws IllegalArgumentException         a bad prompt or max_tokens
     * @throws ContextLengthExceededException   prompt + max_tokens beyond the model's context
     */
    public Generation(SteppedModel engine, GenerationRequest r, boolean wantFirstLogits) {
        if (r.maxTokens() < 1) {
            throw new IllegalArgumentException("max_tokens must be >= 1, got " + r.maxTokens());
        }
        this.engine = engine;
        this.prompt = promptIds(engine, r);
        long total = (long) prompt.length + r.maxTokens();
        if (total > engine.config().contextLength()) {
            throw new ContextLengthExceededException("prompt of " + prompt.length + " tokens plus max_tokens "
                    + r.maxTokens() + " exceeds the context length " + engine.config().contextLength());
        }
        this.sampling = r.sampling() == null ? Sampling.greedy() : r.sampling();
        this.sampler = new Sampler(sampling);
        this.maxTokens = r.maxTokens();
        this.wantFirstLogits = wantFirstLogits;
        this.argmaxOnly = sampling.temperature() == 0f
                && (sampling.repeatPenalty() == 1f || sampling.repeatLastN() == 0);
        this.deviceSampling = !argmaxOnly && engine.samplesOnDevice(sampling);
        this.history = new int[(int) total];
        System.arraycopy(prompt, 0, history, 0, prompt.length);
        this.out = new int[maxTokens];
        engine.begin((int) total);
    }

    /** Token ids of the request's prompt, validated ({@link GenerationRequest#promptTokens}). */
    public static int[] promptIds(SteppedModel engine, GenerationRequest r) {
        return r.promptTokens(engine.tokenizer(), engine.config().vocabSize());
    }

    public SteppedModel engine() {
        return engine;
    }

    public int[] promptIdsUsed() {
        return prompt.clone();
    }

    public int promptLength() {
        return prompt.length;
    }

    public int maxTokens() {
        return maxTokens;
    }

    /** Prompt tokens already run through the engine. */
    public int prefilled() {
        return Math.min(pos, prompt.length);
    }

    /** Tokens generated so far. */
    public int tokensDone() {
        return n;
    }

    /** Engine calls still needed at most (prefill calls left at the current batch size, plus decode left). */
    public int stepsLeft() {
        if (finished) {
            return 0;
        }
        int left = prompt.length - prefilled();
        return (left + prefillBatch - 1) / prefillBatch + (maxTokens - n);
    }

    /** Time budget of one batched prefill call, in ms (default 500: a pause still lands within a second). */
    public void setPrefillCallMs(double ms) {
        if (!(ms > 0)) {
            throw new IllegalArgumentException("prefill call budget must be > 0 ms, got " + ms);
        }
        prefillCallMs = ms;
    }

    public boolean done() {
        return finished;
    }

    /** A step was issued and its result has not arrived yet (asynchronous engines). */
    public boolean inFlight() {
        return inFlight;
    }

    /** The first generated position's logits, when asked for at construction (null otherwise). */
    public float[] firstLogits() {
        return firstLogits;
    }

    /**
     * Runs one forward pass (and the sampling that follows it); {@code done} is called exactly once, with an error
     * message when the engine failed (the generation is then finished without a result).
     */
    public void step(StepDone done) {
        if (finished) {
            done.done("generation already finished");
            return;
        }
        if (inFlight) {
            done.done("a step is already in flight");
            return;
        }
        if (startNanos < 0) {
            startNanos = System.nanoTime();
        }
        int count = pos < prompt.length ? Math.min(prefillBatch, prompt.length - pos) : 1;
        int last = pos + count - 1;
        int output;
        if (last < prompt.length - 1) {
            output = SteppedModel.OUT_NONE;
        } else if (last == prompt.length - 1 && wantFirstLogits) {
            output = SteppedModel.OUT_LOGITS;
        } else if (argmaxOnly) {
            output = SteppedModel.OUT_ARGMAX;
        } else if (deviceSampling) {
            output = SteppedModel.OUT_SAMPLE;
        } else {
            output = SteppedModel.OUT_LOGITS;
        }
        inFlight = true;
        long t0 = System.nanoTime();
        try {
            if (output == SteppedModel.OUT_SAMPLE) {
                pendingU = sampling.temperature() == 0f ? 0 : sampler.nextUniform();
                engine.nextDraw(sampling, pendingU, history, prompt.length + n);
            }
            if (output == SteppedModel.OUT_ARGMAX) {
                engine.greedyStepsMayFollow(maxTokens - n - 1); // this step gives token n; the rest need one each
            }
            SteppedModel.StepCallback cb = (argmax, logits, error) -> {
                inFlight = false;
                if (error == null && pos < prompt.length) {
                    adaptPrefillBatch(count, (System.nanoTime() - t0) / 1e6);
                }
                String e = error != null ? error : handle(count, output, argmax, logits);
                if (e != null) {
                    finished = true;
                }
                done.done(e);
            };
            if (pos < prompt.length) {
                engine.prefill(Arrays.copyOfRange(prompt, pos, pos + count), count, pos, output, cb);
            } else {
                engine.step(out[n - 1], pos, output, cb);
            }
        } catch (RuntimeException e) {
            inFlight = false;
            finished = true;
            done.done(String.valueOf(e.getMessage()));
        }
    }

    /** Sizes the next prefill call from the speed of the last one (ms for {@code count} tokens). */
    private void adaptPrefillBatch(int count, double ms) {
        int max = Math.max(1, engine.maxPrefillBatch());
        double perToken = Math.max(ms, 1e-3) / count;
        prefillBatch = (int) Math.max(1, Math.min(max, Math.floor(prefillCallMs / perToken)));
    }

    /** Applies a step's output; returns an error message or null. */
    private String handle(int count, int output, int argmax, float[] logits) {
        pos += count;
        if (pos < prompt.length) {
            return null;
        }
        if (pos == prompt.length) {
            prefillEndNanos = System.nanoTime();
            if (wantFirstLogits && logits != null) {
                firstLogits = logits.clone();
            }
        }
        int next;
        try {
            if (logits == null) {
                next = argmax;
            } else if (output == SteppedModel.OUT_SAMPLE) {
                next = sampler.sample(logits, history, prompt.length + n, pendingU); // the engine's fallback
            } else {
                next = sampler.sample(logits, history, prompt.length + n);
            }
        } catch (RuntimeException e) {
            return String.valueOf(e.getMessage());
        }
        if (next < 0 || next >= engine.config().vocabSize()) {
            return "the engine returned token id " + next + " outside the vocabulary";
        }
        out[n++] = next;
        history[prompt.length + n - 1] = next;
        Tokenizer tok = engine.tokenizer();
        if (tok.isEndOfGeneration(next)) {
            stoppedOnEog = true;
            finish();
            return null;
        }
        if (!sampling.stop().isEmpty()) {
            String sofar = tok.decode(Arrays.copyOf(out, n));
            int cut = sampling.firstStop(sofar);
            if (cut >= 0) {
                stopText = sofar.substring(0, cut);
                finish();
                return null;
            }
        }
        if (n == maxTokens) {
            finish();
        }
        return null;
    }

    private void finish() {
        finished = true;
        endNanos = System.nanoTime();
    }

    /** The token ids generated so far (a copy), for progress reports while the generation runs. */
    public int[] outputSoFar() {
        return Arrays.copyOf(out, n);
    }

    /**
     * The part of the text so far that the result's text is sure to start with, whatever is generated next: the
     * decoded ids without an end-of-generation token, less trailing U+FFFD (the bytes of a character whose rest is not
     * generated yet decode to it), cut before a stop string, and less a tail that may still become a stop string.
     * Progress reports relay this text to a streaming customer before the result exists.
     */
    public String stableTextSoFar() {
        if (stopText != null) {
            return stopText;
        }
        String text = engine.tokenizer().decode(stoppedOnEog ? Arrays.copyOf(out, n - 1) : Arrays.copyOf(out, n));
        if (finished) {
            return text;
        }
        // only the trailing U+FFFD can still change (bytes of a character whose rest is not generated yet); a stop
        // string may match across them once they do, so stops are judged on the text before them
        int limit = text.length();
        while (limit > 0 && text.charAt(limit - 1) == '\uFFFD') {
            limit--;
        }
        int cut = sampling.firstStop(text.substring(0, limit));
        if (cut >= 0) {
            limit = cut;
        }
        int end = limit;
        for (String stop : sampling.stop()) { // a tail that a stop string starts with may still become it
            for (int k = Math.min(stop.length() - 1, limit); k > 0; k--) {
                if (text.regionMatches(limit - k, stop, 0, k)) {
                    end = Math.min(end, limit - k);
                    break;
                }
            }
        }
        return text.substring(0, end);
    }

    /** The result, once {@link #done()} without an error. */
    public GenerationResult result() {
        if (!finished || endNanos < 0) {
            throw new IllegalStateException("generation not finished");
        }
        int[] ids = Arrays.copyOf(out, n);
        String text = stopText != null ? stopText
                : engine.tokenizer().decode(stoppedOnEog ? Arrays.copyOf(ids, n - 1) : ids);
        return new GenerationResult(ids, text, (prefillEndNanos - startNanos) / 1e6, (endNanos - prefillEndNanos) / 1e6);
    }

    /**
     * Runs the generation of a synchronous model (one that answers every step before returning) to its end on this
     * thread. {@code firstLogits}, when not null, receives a copy of the first generated position's logits (before
     * any repetition penalty).
     *
     * @throws IllegalArgumentException       a bad request (as the constructor)
     * @throws ContextLengthExceededException prompt + max_tokens beyond the model's context
     * @throws IllegalStateException          the engine failed a step or answered asynchronously
     */
    public static GenerationResult runNow(SteppedModel engine, GenerationRequest r, Consumer<float[]> firstLogits) {
        Generation g = new Generation(engine, r, firstLogits != null);
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
}
