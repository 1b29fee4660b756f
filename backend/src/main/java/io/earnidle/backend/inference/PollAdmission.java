package io.earnidle.backend.inference;

import io.earnidle.backend.http.Gate;
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
 */
public final class PollAdmission {
    private final Gate gate;

    /** At most {@code max} polls running and {@code max} waiting; 0: no bound (the gate only counts them). */
    public PollAdmission(int max) {
        if (max < 0) {
            throw new IllegalArgumentException("max polls in flight must be >= 0, got " + max);
        }
        this.gate = max == 0 ? new Gate(Integer.MAX_VALUE, 0, () -> {
            throw new IllegalStateException("an unbounded gate refuses nothing");
        }) : new Gate(max, max, () -> Problem.unavailable("polls-in-flight",
                "this backend instance is working on " + max + " polls with as many waiting "
                        + "(earnidle.leases.max-polls-in-flight); nothing was changed, poll again after Retry-After",
                1));
    }

    /**
     * Takes a place for one poll, waiting for a running poll to end when all places are taken, or throws the 503 when
     * as many polls wait already; every place taken is {@link #leave}d.
     */
    void enter() {
        gate.enter();
    }

    void leave() {
        gate.leave();
    }

    /** Polls running or waiting now. */
    public int inFlight() {
        return gate.admitted();
    }
}
