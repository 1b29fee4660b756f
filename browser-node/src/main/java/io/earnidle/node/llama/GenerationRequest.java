package io.earnidle.node.llama;

import io.earnidle.node.tokenizer.Tokenizer;

/** Exactly one of {@code prompt} (tokenized, BOS per {@code addBos}) and {@code promptIds} (used as given) is set. */
public record GenerationRequest(String prompt, int[] promptIds, boolean addBos, int maxTokens, Sampling sampling) {
    /**
     * The prompt's token ids, validated: exactly one of prompt and prompt ids, not empty, every id inside a
     * vocabulary of {@code vocabSize}.
     */
    public int[] promptTokens(Tokenizer tokenizer, int vocabSize) {
        if ((prompt == null) == (promptIds == null)) {
            throw new IllegalArgumentException("exactly one of prompt and prompt_ids must be given");
        }
        int[] ids = prompt != null ? tokenizer.encode(prompt, addBos) : promptIds.clone();
        if (ids.length == 0) {
            throw new IllegalArgumentException("the prompt is empty");
        }
        for (int id : ids) {
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException("prompt token id " + id + " outside the vocabulary of " + vocabSize);
            }
        }
        return ids;
    }
}
