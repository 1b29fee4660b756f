package io.earnidle.backend.billing;

import java.nio.charset.StandardCharsets;

/** What is known of a job's prompt tokens before a node has read it. */
public final class PromptTokens {
    private PromptTokens() {
    }

    /**
     * An upper bound of a job's prompt tokens: the ids' count, or for a text prompt its UTF-8 bytes plus a BOS (a
     * token covers at least one byte).
     */
    public static long upperBound(String prompt, int promptIdCount) {
        return prompt == null ? promptIdCount : prompt.getBytes(StandardCharsets.UTF_8).length + 1L;
    }
}
