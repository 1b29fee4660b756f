package io.earnidle.node.llama;

/** The prompt plus the requested tokens do not fit the model's context window. */
public final class ContextLengthExceededException extends IllegalArgumentException {
    public ContextLengthExceededException(String message) {
        super(message);
    }
}
