package io.earnidle.backend.capability;

/**
 * A session's reputation, 0..100, as dispatch reads it to rank idle sessions (warm first, then reputation, then
 * capability): the score of its identity's counters, which dispatch reads with the session's row (cap-session,
 * cap-rivals: no query per rival). The score itself is reputation.Reputation's (issue 19's reputation and tiers);
 * {@link #NEUTRAL} gives every session the same middle score, so dispatch ranks by warmth and capability alone.
 */
@FunctionalInterface
public interface Reputation {
    /** The same middle score for every session. */
    Reputation NEUTRAL = (successes, failures, timeouts) -> 50.0;

    /** The score of verified successes, failed verifications and leases that expired without a result. */
    double score(long successes, long failures, long timeouts);
}
