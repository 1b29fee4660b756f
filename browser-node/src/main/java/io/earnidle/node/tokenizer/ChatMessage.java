package io.earnidle.node.tokenizer;

/** One chat turn: {@code role} is e.g. "system", "user" or "assistant". */
public record ChatMessage(String role, String content) {
    public ChatMessage {
        if (role == null || content == null) {
            throw new IllegalArgumentException("role and content must not be null");
        }
    }
}
