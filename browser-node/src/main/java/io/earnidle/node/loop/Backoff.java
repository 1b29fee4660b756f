package io.earnidle.node.loop;

import io.earnidle.node.llama.SplitMix64;

/** Exponential backoff with "equal jitter": delay = d/2 + rand*d/2 where d = min(cap, base * 2^failures). */
public final class Backoff {
    private final long baseMs;
    private final long capMs;
    private final SplitMix64 rng;
    private int attempt;

    public Backoff(long baseMs, long capMs, long seed) {
        if (baseMs < 1 || capMs < baseMs) {
            throw new IllegalArgumentException("need 1 <= base <= cap, got base " + baseMs + ", cap " + capMs);
        }
        this.baseMs = baseMs;
        this.capMs = capMs;
        this.rng = new SplitMix64(seed);
    }

    /** Next delay in milliseconds; each call doubles the ceiling until the cap. */
    public long nextDelayMs() {
        long d = baseMs;
        for (int k = 0; k < attempt && d < capMs; k++) {
            d *= 2;
        }
        d = Math.min(d, capMs);
        if (attempt < 62) {
            attempt++;
        }
        return d / 2 + (long) (rng.nextDouble() * (d - d / 2 + 1));
    }

    public void reset() {
        attempt = 0;
    }

    public int attempt() {
        return attempt;
    }
}
