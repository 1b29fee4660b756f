package io.earnidle.node.llama;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Sampling settings. temperature 0 means greedy; topK <= 0 means the whole vocabulary; topP >= 1 disables nucleus
 * filtering; minP <= 0 disables min-p; repeatPenalty 1 disables the repetition penalty, which otherwise applies to
 * the distinct tokens among the last {@code repeatLastN} tokens of prompt + output (llama.cpp semantics: a positive
 * logit is divided by the penalty, any other multiplied); {@code stop} strings end generation when the decoded
 * output contains one (the text is cut before it).
 *
 * <p>The 4-argument constructor and {@link #greedy()} keep their meaning: the extras off.
 */
public record Sampling(float temperature, int topK, float topP, long seed, float minP, float repeatPenalty,
                       int repeatLastN, List<String> stop) {
    public static final int DEFAULT_REPEAT_LAST_N = 64;

    public Sampling {
        stop = stop == null ? Collections.emptyList() : Collections.unmodifiableList(new ArrayList<>(stop));
        for (String s : stop) {
            if (s == null || s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must be non-empty");
            }
        }
    }

    public Sampling(float temperature, int topK, float topP, long seed) {
        this(temperature, topK, topP, seed, 0f, 1f, DEFAULT_REPEAT_LAST_N, Collections.emptyList());
    }

    public static Sampling greedy() {
        return new Sampling(0f, 0, 1f, 0L);
    }

    public Sampling withMinP(float p) {
        return new Sampling(temperature, topK, topP, seed, p, repeatPenalty, repeatLastN, stop);
    }

    public Sampling withRepeatPenalty(float penalty, int lastN) {
        return new Sampling(temperature, topK, topP, seed, minP, penalty, lastN, stop);
    }

    public Sampling withStop(List<String> stopStrings) {
        return new Sampling(temperature, topK, topP, seed, minP, repeatPenalty, repeatLastN, stopStrings);
    }

    /** Index of the earliest occurrence of any {@link #stop} string in {@code text}, or -1. */
    public int firstStop(String text) {
        int best = -1;
        for (String s : stop) {
            int i = text.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }
}
