package io.earnidle.backend.capability;

import io.helidon.dbclient.DbExecute;

/**
 * A session's reputation, 0..100, as dispatch reads it to rank idle sessions (warm first, then reputation, then
 * capability). The score itself is built elsewhere (issue 19's reputation and tiers); until that is wired in, every
 * session has the {@link #NEUTRAL} score, so dispatch ranks by warmth and capability alone.
 */
@FunctionalInterface
public interface Reputation {
    /** The same middle score for every session. */
    Reputation NEUTRAL = (exec, sessionId) -> 50.0;

    double score(DbExecute exec, String sessionId);
}
