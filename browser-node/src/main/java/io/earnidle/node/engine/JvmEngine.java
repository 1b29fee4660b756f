package io.earnidle.node.engine;

import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.LlamaModelSteps;

import java.util.LinkedHashMap;
import java.util.Map;

/** The pure-Java engine ({@link LlamaModel}, plain Java ops) as an {@link Engine}: the fallback everywhere. */
public final class JvmEngine extends LlamaModelSteps implements Engine {
    public JvmEngine(LlamaModel model, String name) {
        super(model, name);
    }

    @Override
    public Map<String, Object> counters() {
        return new LinkedHashMap<>();
    }

    @Override
    public void close() {
        forget();
    }
}
