package io.earnidle.node.llama;

import java.util.Arrays;

/**
 * {@link LlamaModel#generate(GenerationRequest)} cut into steps, so an event loop can run one forward pass (a prompt
 * token during prefill, a generated token during decode) per task and handle other work between them. Running
 * {@link #step()} until {@link #done()} gives exactly the ids, text and stop behaviour of {@code generate}; the
 * timings count only the time spent inside steps.
 */
public final class Generation {
    private final LlamaModel model;
    private final Sampling sampling;
    private final Sampler sampler;
    private final int[] prompt;
    private final int maxTokens;
    private final LlamaModel.State st;
    private final int[] history;
    private final int[] out;
    private float[] logits;
    private int prefilled;
    private int n;
    private int pos;
    private boolean finished;
    private boolean stoppedOnEog;
    private String stopText;
    private long prefillNanos;
    private long decodeNanos;

    public Generation(LlamaModel model, GenerationRequest r) {
        if (r.maxTokens() < 1) {
            throw new IllegalArgumentException("max_tokens must be >= 1, got " + r.maxTokens());
        }
        this.model = model;
        this.sampling = r.sampling() == null ? Sampling.greedy() : r.sampling();
        this.sampler = new Sampler(sampling);
        this.prompt = model.promptIds(r);
        this.maxTokens = r.maxTokens();
        long total = (long) prompt.length + maxTokens;
        if (total > model.contextLength()) {
            throw new ContextLengthExceededException("prompt of " + prompt.length + " tokens plus max_tokens "
                    + maxTokens + " exceeds the context length " + model.contextLength());
        }
        this.st = model.new State((int) total);
        this.history = new int[(int) total];
        System.arraycopy(prompt, 0, history, 0, prompt.length);
        this.out = new int[maxTokens];
        this.pos = prompt.length;
    }

    public int promptLength() {
        return prompt.length;
    }

    public int maxTokens() {
        return maxTokens;
    }

    /** Prompt tokens already run through the model. */
    public int prefilled() {
        return prefilled;
    }

    /** Tokens generated so far. */
    public int tokensDone() {
        return n;
    }

    /** Forward passes still needed at most (prefill left plus decode left). */
    public int stepsLeft() {
        if (finished) {
            return 0;
        }
        return (prompt.length - prefilled) + (maxTokens - n);
    }

    public boolean done() {
        return finished;
    }

    /** Runs one forward pass (and the sampling that follows it); does nothing once {@link #done()}. */
    public void step() {
        if (finished) {
            return;
        }
        long t0 = System.nanoTime();
        if (prefilled < prompt.length) {
            logits = model.forward(st, prompt[prefilled], prefilled, prefilled == prompt.length - 1);
            prefilled++;
            if (prefilled < prompt.length) {
                prefillNanos += System.nanoTime() - t0;
                return;
            }
            prefillNanos += System.nanoTime() - t0;
            t0 = System.nanoTime();
            sampleNext();
            decodeNanos += System.nanoTime() - t0;
            return;
        }
        logits = model.forward(st, out[n - 1], pos++, true);
        sampleNext();
        decodeNanos += System.nanoTime() - t0;
    }

    /** Samples the next token from {@link #logits}; marks the generation finished when it ends. */
    private void sampleNext() {
        int next = sampler.sample(logits, history, prompt.length + n);
        out[n++] = next;
        history[prompt.length + n - 1] = next;
        if (model.tokenizer().isEndOfGeneration(next)) {
            stoppedOnEog = true;
            finished = true;
            return;
        }
        if (!sampling.stop().isEmpty()) {
            String sofar = model.tokenizer().decode(Arrays.copyOf(out, n));
            int cut = LlamaModel.firstStop(sofar, sampling.stop());
            if (cut >= 0) {
                stopText = sofar.substring(0, cut);
                finished = true;
                return;
            }
        }
        if (n == maxTokens) {
            finished = true;
        }
    }

    /** The result, once {@link #done()}. */
    public GenerationResult result() {
        if (!finished) {
            throw new IllegalStateException("generation not finished");
        }
        int[] ids = Arrays.copyOf(out, n);
        String text = stopText != null ? stopText
                : model.tokenizer().decode(stoppedOnEog ? Arrays.copyOf(ids, n - 1) : ids);
        return new GenerationResult(ids, text, prefillNanos / 1e6, decodeNanos / 1e6);
    }
}
