package io.earnidle.node.gguf;

/** Thrown when bytes are not a well-formed GGUF file this reader supports. */
public final class GgufFormatException extends RuntimeException {
    public GgufFormatException(String message) {
        super(message);
    }
}
