package io.earnidle.node.llama;

import io.earnidle.node.tokenizer.Tokenizer;

/**
 * A {@link LlamaModel} (plain Java ops) as a {@link SteppedModel}, stepped on the calling thread: what
 * {@link LlamaModel#generate} runs the generation loop over, and the body of the node's JVM engine
 * ({@code io.earnidle.node.engine.JvmEngine}).
 */
public class LlamaModelSteps implements SteppedModel {
    private final LlamaModel model;
    private final String name;
    private LlamaModel.State state;

    public LlamaModelSteps(LlamaModel model, String name) {
        this.model = model;
        this.name = name;
    }

    @Override
    public String name() {
        return name;
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
        state = model.new State(positions);
    }

    @Override
    public void step(int token, int pos, int output, StepCallback cb) {
        float[] logits;
        try {
            logits = model.forward(state, token, pos, output != OUT_NONE);
        } catch (RuntimeException e) {
            cb.done(-1, null, String.valueOf(e.getMessage()));
            return;
        }
        if (output == OUT_NONE) {
            cb.done(-1, null, null);
        } else {
            cb.done(Sampler.argmax(logits), output == OUT_LOGITS ? logits.clone() : null, null);
        }
    }

    /** Forgets the sequence (its KV cache). */
    protected void forget() {
        state = null;
    }
}
