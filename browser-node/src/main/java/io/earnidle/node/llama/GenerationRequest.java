package io.earnidle.node.llama;

/** Exactly one of {@code prompt} (tokenized, BOS per {@code addBos}) and {@code promptIds} (used as given) is set. */
public record GenerationRequest(String prompt, int[] promptIds, boolean addBos, int maxTokens, Sampling sampling) {
}
