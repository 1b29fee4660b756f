package io.earnidle.node.engine;

import io.earnidle.node.llama.LlamaConfig;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampler;
import io.earnidle.node.tokenizer.Tokenizer;

import java.util.LinkedHashMap;
import java.util.Map;

/** The pure-Java engine ({@link LlamaModel}, plain Java ops) as an {@link Engine}: the fallback everywhere. */
public final class JvmEngine implements Engine {
    private final LlamaModel model;
    private final String name;
    private LlamaModel.State state;

    public JvmEngine(LlamaModel model, String name) {
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

    @Override
    public Map<String, Object> counters() {
        return new LinkedHashMap<>();
    }

    @Override
    public void close() {
        state = null;
    }
}
