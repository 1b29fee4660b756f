package io.earnidle.node.engine;

import io.earnidle.node.llama.ContextLengthExceededException;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.Sampler;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.List;

/**
 * {@link io.earnidle.node.llama.LlamaModel#generate} semantics (prefill, sampling chain, EOS/EOT, stop strings) over
 * any {@link Engine}, asynchronous: synchronous engines run in a loop (no recursion per token), asynchronous ones
 * continue from their callbacks. Greedy requests without repetition penalty ask the engine for the argmax only
 * (WebGPU: 4 bytes read back per token); everything else asks for the logits and samples in Java.
 */
public final class EngineGenerator {
    /** Outcome of a generation: {@code firstLogits} only when asked for; {@code error} non-null on failure. */
    public record Outcome(GenerationResult result, int[] promptIds, float[] firstLogits, String error) {
    }

    public interface Done {
        void done(Outcome outcome);
    }

    private final Engine engine;
    private final Sampling sampling;
    private final Sampler sampler;
    private final int[] prompt;
    private final int maxTokens;
    private final boolean wantFirstLogits;
    private final boolean argmaxOnly;
    private final Done done;
    private final int[] history;
    private final int[] out;
    private int pos;
    private int n;
    private long t0;
    private long t1;
    private float[] firstLogits;
    private boolean finished;
    // callback hand-off
    private boolean inStep;
    private boolean syncDone;
    private int cbArgmax;
    private float[] cbLogits;
    private String cbError;

    private EngineGenerator(Engine engine, GenerationRequest r, int[] prompt, boolean wantFirstLogits, Done done) {
        this.engine = engine;
        this.sampling = r.sampling() == null ? Sampling.greedy() : r.sampling();
        this.sampler = new Sampler(sampling);
        this.prompt = prompt;
        this.maxTokens = r.maxTokens();
        this.wantFirstLogits = wantFirstLogits;
        this.argmaxOnly = sampling.temperature() == 0f
                && (sampling.repeatPenalty() == 1f || sampling.repeatLastN() == 0);
        this.done = done;
        this.history = new int[prompt.length + maxTokens];
        System.arraycopy(prompt, 0, history, 0, prompt.length);
        this.out = new int[maxTokens];
    }

    /** Token ids of the request's prompt, validated (as LlamaModel.promptIds). */
    public static int[] promptIds(Engine engine, GenerationRequest r) {
        if ((r.prompt() == null) == (r.promptIds() == null)) {
            throw new IllegalArgumentException("exactly one of prompt and prompt_ids must be given");
        }
        Tokenizer tok = engine.tokenizer();
        int[] ids = r.prompt() != null ? tok.encode(r.prompt(), r.addBos()) : r.promptIds().clone();
        if (ids.length == 0) {
            throw new IllegalArgumentException("the prompt is empty");
        }
        int vocab = engine.config().vocabSize();
        for (int id : ids) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("prompt token id " + id + " outside the vocabulary of " + vocab);
            }
        }
        return ids;
    }

    /** Starts generating; {@code done} is called exactly once (possibly before this method returns). */
    public static void generate(Engine engine, GenerationRequest r, boolean wantFirstLogits, Done done) {
        EngineGenerator g;
        try {
            if (r.maxTokens() < 1) {
                throw new IllegalArgumentException("max_tokens must be >= 1, got " + r.maxTokens());
            }
            int[] prompt = promptIds(engine, r);
            long total = (long) prompt.length + r.maxTokens();
            if (total > engine.config().contextLength()) {
                throw new ContextLengthExceededException("prompt of " + prompt.length + " tokens plus max_tokens "
                        + r.maxTokens() + " exceeds the context length " + engine.config().contextLength());
            }
            g = new EngineGenerator(engine, r, prompt, wantFirstLogits, done);
            engine.begin((int) total);
        } catch (RuntimeException e) {
            done.done(new Outcome(null, null, null, String.valueOf(e.getMessage())));
            return;
        }
        g.t0 = System.nanoTime();
        g.pump();
    }

    private void pump() {
        while (!finished) {
            int token = pos < prompt.length ? prompt[pos] : out[n - 1];
            int output;
            if (pos < prompt.length - 1) {
                output = Engine.OUT_NONE;
            } else if (pos == prompt.length - 1 && wantFirstLogits) {
                output = Engine.OUT_LOGITS;
            } else {
                output = argmaxOnly ? Engine.OUT_ARGMAX : Engine.OUT_LOGITS;
            }
            inStep = true;
            syncDone = false;
            engine.step(token, pos, output, (argmax, logits, error) -> {
                cbArgmax = argmax;
                cbLogits = logits;
                cbError = error;
                if (inStep) {
                    syncDone = true;
                } else {
                    handle();
                    pump();
                }
            });
            inStep = false;
            if (!syncDone) {
                return; // asynchronous engine: the callback continues
            }
            handle();
        }
    }

    private void handle() {
        if (cbError != null) {
            finish(cbError);
            return;
        }
        pos++;
        if (pos < prompt.length) {
            return;
        }
        if (pos == prompt.length) {
            t1 = System.nanoTime();
            if (wantFirstLogits) {
                firstLogits = cbLogits == null ? null : cbLogits.clone();
            }
        }
        int next;
        try {
            next = cbLogits != null ? sampler.sample(cbLogits, history, prompt.length + n) : cbArgmax;
        } catch (RuntimeException e) {
            finish(String.valueOf(e.getMessage()));
            return;
        }
        out[n++] = next;
        history[prompt.length + n - 1] = next;
        Tokenizer tok = engine.tokenizer();
        if (tok.isEndOfGeneration(next)) {
            complete(true, null);
            return;
        }
        List<String> stops = sampling.stop();
        if (!stops.isEmpty()) {
            String sofar = tok.decode(Arrays.copyOf(out, n));
            int cut = firstStop(sofar, stops);
            if (cut >= 0) {
                complete(false, sofar.substring(0, cut));
                return;
            }
        }
        if (n == maxTokens) {
            complete(false, null);
        }
    }

    private void complete(boolean stopped, String stopText) {
        long t2 = System.nanoTime();
        int[] ids = Arrays.copyOf(out, n);
        String text = stopText != null ? stopText
                : engine.tokenizer().decode(stopped ? Arrays.copyOf(ids, n - 1) : ids);
        finished = true;
        done.done(new Outcome(new GenerationResult(ids, text, (t1 - t0) / 1e6, (t2 - t1) / 1e6), prompt, firstLogits,
                null));
    }

    private void finish(String error) {
        finished = true;
        done.done(new Outcome(null, prompt, null, error));
    }

    static int firstStop(String text, List<String> stops) {
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }
}
