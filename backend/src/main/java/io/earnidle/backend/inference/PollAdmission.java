package io.earnidle.backend.inference;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

import io.earnidle.backend.http.Gate;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Problem;

/**
 * Bounds the node polls one backend instance works on at once ({@code earnidle.leases.max-polls-in-flight},
 * docs/operations.md "Polls in flight"): at most that many run, as many more wait for one of them to end (first come,
 * first served), and a poll beyond those is answered at once with a 503 {@code polls-in-flight} problem and
 * {@code Retry-After}, before it reads anything: nothing changed, and the node polls again later (the browser node
 * backs off). A waiting poll thus waits for about one poll ahead of it per place. Without the bound, every poll of
 * thousands of nodes waited in line for a database connection, with the results and job submissions behind them,
 * until leases ran out before their results were read and polls failed after the pool's connection timeout. Results
 * are never refused here: each holds finished work for a lease a poll handed out.
 *
 * <p>Fair to nodes that are not working: a session whose last poll here leased a job polls again the moment its
 * result is in, so busy sessions alone would keep every place taken while the polls of new and idle sessions, which
 * come back only after a backoff, were refused. A poll of a busy session may therefore take only half of the waiting
 * places; the other half are kept for the polls of the others. The session is known by its bearer token before
 * anything is read (by the token's SHA-256, held in memory only while the session keeps getting jobs).
 */
public final class PollAdmission {
    private final Gate gate;
    private final int busyLimit;
    /** Sessions (SHA-256 of their Authorization header) whose last poll leased a job, with when it ended. */
    private final Map<String, Long> busy = new ConcurrentHashMap<>();
    private final long forgetAfterNanos;
    private final LongSupplier nanoTime;
    private volatile int sizeAfterPrune;

    /**
     * At most {@code max} polls running and {@code max} waiting, of which half for sessions that are not busy; 0: no
     * bound (the gate only counts them). A busy session that has not polled for {@code forgetAfterMillis} (its lease
     * ran out, or it left) is no longer busy.
     */
    public PollAdmission(int max, long forgetAfterMillis) {
        this(max, forgetAfterMillis, System::nanoTime);
    }

    PollAdmission(int max, long forgetAfterMillis, LongSupplier nanoTime) {
        if (max < 0) {
            throw new IllegalArgumentException("max polls in flight must be >= 0, got " + max);
        }
        this.gate = max == 0 ? new Gate(Integer.MAX_VALUE, 0, () -> {
            throw new IllegalStateException("an unbounded gate refuses nothing");
        }) : new Gate(max, max, () -> Problem.unavailable("polls-in-flight",
                "this backend instance is working on " + max + " polls with as many waiting "
                        + "(earnidle.leases.max-polls-in-flight); nothing was changed, poll again after Retry-After",
                1));
        this.busyLimit = max == 0 ? Integer.MAX_VALUE : max + max / 2;
        this.forgetAfterNanos = forgetAfterMillis * 1_000_000L;
        this.nanoTime = nanoTime;
    }

    /**
     * Takes a place for one poll, waiting for a running poll to end when all places are taken, or throws the 503 when
     * as many polls wait already (half as many, for a busy session); every place taken is {@link #leave}d. Returns
     * the session's key for {@link #leave}.
     */
    String enter(String authorization) {
        if (busyLimit == Integer.MAX_VALUE) { // no bound: no place to share, no session to know
            gate.enter();
            return "";
        }
        String key = authorization == null ? "" : Ids.sha256Hex(authorization);
        gate.enter(busy.containsKey(key) ? busyLimit : Integer.MAX_VALUE);
        return key;
    }

    /** Gives the place back; {@code leased}: the poll leased a job (the session is busy until a poll that does not). */
    void leave(String key, boolean leased) {
        gate.leave();
        if (busyLimit == Integer.MAX_VALUE) {
            return;
        }
        if (leased) {
            busy.put(key, nanoTime.getAsLong());
            pruneNow();
        } else {
            busy.remove(key);
        }
    }

    /** Forgets the busy sessions that have not polled for a while, once the map has doubled since the last time. */
    private void pruneNow() {
        int size = busy.size();
        if (size <= 2 * sizeAfterPrune + 64) {
            return;
        }
        synchronized (this) {
            long now = nanoTime.getAsLong();
            busy.values().removeIf(at -> now - at > forgetAfterNanos);
            sizeAfterPrune = busy.size();
        }
    }

    /** Polls running or waiting now. */
    public int inFlight() {
        return gate.admitted();
    }

    /** Sessions counted as busy now. */
    int busySessions() {
        return busy.size();
    }
}
