package io.earnidle.node.engine;

import io.earnidle.node.llama.Generation;
import io.earnidle.node.llama.GenerationRequest;

/** The generation loop ({@link Generation}) over an {@link Engine}: what the node loop and the engine runs drive. */
public final class EngineGeneration extends Generation {
    private final Engine engine;

    /** As {@link Generation#Generation}. */
    public EngineGeneration(Engine engine, GenerationRequest r, boolean wantFirstLogits) {
        super(engine, r, wantFirstLogits);
        this.engine = engine;
    }

    @Override
    public Engine engine() {
        return engine;
    }
}
