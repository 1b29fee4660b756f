package io.earnidle.node.llama;

import io.earnidle.node.llama.ops.DetMath;

/**
 * Repetition penalty (when set) on the logits, then greedy when temperature == 0, else temperature → top-k → top-p →
 * min-p → seeded draw (SplitMix64).
 */
public final class Sampler {
    private final Sampling s;
    private final SplitMix64 rng;

    public Sampler(Sampling s) {
        if (!(s.temperature() >= 0) || Float.isInfinite(s.temperature())) {
            throw new IllegalArgumentException("temperature must be finite and >= 0, got " + s.temperature());
        }
        if (!(s.topP() > 0) || s.topP() != s.topP()) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + s.topP());
        }
        if (!(s.minP() >= 0) || s.minP() > 1) {
            throw new IllegalArgumentException("min_p must be in [0, 1], got " + s.minP());
        }
        if (!(s.repeatPenalty() > 0) || Float.isInfinite(s.repeatPenalty())) {
            throw new IllegalArgumentException("repeat_penalty must be finite and > 0, got " + s.repeatPenalty());
        }
        if (s.repeatLastN() < 0) {
            throw new IllegalArgumentException("repeat_last_n must be >= 0, got " + s.repeatLastN());
        }
        this.s = s;
        this.rng = new SplitMix64(s.seed());
    }

    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    public int sample(float[] logits) {
        return sample(logits, null, 0);
    }

    /**
     * Samples from {@code logits}; {@code history[0 .. historyLength)} are the tokens so far (prompt + output) for
     * the repetition penalty. The logits array is not modified.
     */
    public int sample(float[] logits, int[] history, int historyLength) {
        return sample(logits, history, historyLength, s.temperature() == 0f ? 0 : nextUniform());
    }

    /** The next seeded uniform number in [0, 1): the one {@link #sample(float[], int[], int)} would draw. */
    public double nextUniform() {
        return rng.nextDouble();
    }

    /**
     * As {@link #sample(float[], int[], int)} with the uniform number {@code u} given (drawn by {@link #nextUniform}
     * when the temperature is above 0; ignored for greedy). Engines that sample on the device get the same u.
     */
    public int sample(float[] logits, int[] history, int historyLength, double u01) {
        if (s.repeatPenalty() != 1f && s.repeatLastN() > 0 && history != null && historyLength > 0) {
            logits = penalize(logits, history, historyLength, s.repeatPenalty(), s.repeatLastN());
        }
        if (s.temperature() == 0f) {
            return argmax(logits);
        }
        int n = logits.length;
        int k = s.topK() <= 0 || s.topK() > n ? n : s.topK();
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        sortByLogitDesc(idx, logits);
        double max = logits[idx[0]] / (double) s.temperature();
        double[] p = new double[k];
        double sum = 0;
        for (int i = 0; i < k; i++) {
            p[i] = DetMath.exp(logits[idx[i]] / (double) s.temperature() - max);
            sum += p[i];
        }
        int keep = k;
        if (s.topP() < 1f) {
            double cum = 0;
            for (int i = 0; i < k; i++) {
                cum += p[i] / sum;
                if (cum >= s.topP()) {
                    keep = i + 1;
                    break;
                }
            }
        }
        if (s.minP() > 0f) {
            // p[0] is the largest (indices sorted by logit); keep tokens with p >= minP * pmax
            double cut = s.minP() * p[0];
            for (int i = 1; i < keep; i++) {
                if (p[i] < cut) {
                    keep = i;
                    break;
                }
            }
        }
        double total = 0;
        for (int i = 0; i < keep; i++) {
            total += p[i];
        }
        double u = u01 * total;
        double acc = 0;
        for (int i = 0; i < keep; i++) {
            acc += p[i];
            if (u < acc) {
                return idx[i];
            }
        }
        return idx[keep - 1];
    }

    /** llama.cpp's repetition penalty over the distinct tokens among the last {@code lastN} of the history. */
    static float[] penalize(float[] logits, int[] history, int length, float penalty, int lastN) {
        float[] out = logits.clone();
        boolean[] seen = new boolean[logits.length];
        for (int i = Math.max(0, length - lastN); i < length; i++) {
            int t = history[i];
            if (t < 0 || t >= out.length || seen[t]) {
                continue;
            }
            seen[t] = true;
            out[t] = out[t] > 0 ? out[t] / penalty : out[t] * penalty;
        }
        return out;
    }

    /** Stable merge sort of indices by logit descending (ties keep the lower index first). */
    static void sortByLogitDesc(int[] idx, float[] logits) {
        int n = idx.length;
        int[] tmp = new int[n];
        for (int width = 1; width < n; width *= 2) {
            for (int lo = 0; lo < n; lo += 2 * width) {
                int mid = Math.min(lo + width, n);
                int hi = Math.min(lo + 2 * width, n);
                int i = lo;
                int j = mid;
                int o = lo;
                while (i < mid && j < hi) {
                    tmp[o++] = logits[idx[j]] > logits[idx[i]] ? idx[j++] : idx[i++];
                }
                while (i < mid) {
                    tmp[o++] = idx[i++];
                }
                while (j < hi) {
                    tmp[o++] = idx[j++];
                }
            }
            System.arraycopy(tmp, 0, idx, 0, n);
        }
    }
}
