package io.earnidle.node.llama;

/** temperature 0 means greedy; topK <= 0 means the whole vocabulary; topP >= 1 disables nucleus filtering. */
public record Sampling(float temperature, int topK, float topP, long seed) {
    public static Sampling greedy() {
        return new Sampling(0f, 0, 1f, 0L);
    }
}
