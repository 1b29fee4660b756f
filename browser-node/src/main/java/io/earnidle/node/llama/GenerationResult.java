package io.earnidle.node.llama;

/** Generated ids (a final EOS/EOT is included when generation stopped on it; it is not part of {@code text}). */
public record GenerationResult(int[] tokenIds, String text, double prefillMs, double decodeMs) {
}
