package io.earnidle.backend.inference;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

import io.earnidle.backend.http.Problem;

/**
 * Bounds the node polls one backend instance works on at once ({@code earnidle.leases.max-polls-in-flight},
 * docs/operations.md "Polls in flight"): at most that many run, as many more wait for one of them to end (first come,
 * first served), and a poll beyond those is answered at once with a 503 {@code polls-in-flight} problem and
 * {@code Retry-After}, before it reads anything: nothing changed, and the node polls again later (the browser node
 * backs off). A waiting poll thus waits for at most about one poll ahead of it per place. Without the bound, every
 * poll of thousands of nodes waited in line for a database connection, with the results and job submissions behind
 * them, until leases ran out before their results were read and polls failed after the pool's connection timeout.
 * Results are never refused here: each holds finished work for a lease a poll handed out.
 */
public final class PollAdmission {
    private final int max;
    private final Semaphore running;
    private final AtomicInteger admitted = new AtomicInteger();

    /** At most {@code max} polls running and {@code max} waiting; 0: no bound. */
    public PollAdmission(int max) {
        if (max < 0) {
            throw new IllegalArgumentException("max polls in flight must be >= 0, got " + max);
        }
        this.max = max;
        this.running = new Semaphore(Math.max(1, max), true);
    }

    /**
     * Takes a place for one poll, waiting for a running poll to end when all places are taken, or throws the 503 when
     * as many polls wait already; every place taken is {@link #leave}d.
     */
    void enter() {
        if (max == 0) {
            admitted.incrementAndGet();
            return;
        }
        if (admitted.incrementAndGet() > 2 * max) {
            admitted.decrementAndGet();
            throw Problem.unavailable("polls-in-flight", "this backend instance is working on " + max + " polls "
                    + "with as many waiting (earnidle.leases.max-polls-in-flight); nothing was changed, poll again "
                    + "after Retry-After", 1);
        }
        running.acquireUninterruptibly();
    }

    void leave() {
        if (max > 0) {
            running.release();
        }
        admitted.decrementAndGet();
    }

    /** Polls running or waiting now. */
    public int inFlight() {
        return admitted.get();
    }
}
