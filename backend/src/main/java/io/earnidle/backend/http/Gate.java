package io.earnidle.backend.http;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * At most {@code running} callers at once and at most {@code waiting} more waiting for one of them to end (first come,
 * first served); a caller beyond those is refused at once, before it allocates anything, with the problem
 * {@code refusal} makes (a 503 with {@code Retry-After}). What bounds the password hashes anonymous requests cause
 * ({@code auth/HashingGate}) and the node polls an instance works on ({@code inference/PollAdmission}).
 */
public final class Gate {
    private final Semaphore running;
    private final int admittedMax;
    private final AtomicInteger admitted = new AtomicInteger();
    private final Supplier<Problem> refusal;

    public Gate(int running, int waiting, Supplier<Problem> refusal) {
        if (running < 1 || waiting < 0) {
            throw new IllegalArgumentException("a gate needs running >= 1 and waiting >= 0, got " + running + " and "
                    + waiting);
        }
        this.running = new Semaphore(running, true);
        this.admittedMax = running + waiting;
        this.refusal = refusal;
    }

    /** Takes a place, waiting for one when all are taken; throws the refusal when as many wait already. */
    public void enter() {
        enter(admittedMax);
    }

    /**
     * As {@link #enter()}, refused already when {@code limit} callers (at most running + waiting) are running or
     * waiting: a caller of lower priority may take fewer of the waiting places.
     */
    public void enter(int limit) {
        if (admitted.incrementAndGet() > Math.min(limit, admittedMax)) {
            admitted.decrementAndGet();
            throw refusal.get();
        }
        running.acquireUninterruptibly();
    }

    /** Gives back the place {@link #enter} took. */
    public void leave() {
        running.release();
        admitted.decrementAndGet();
    }

    /** Runs {@code work} in a place of the gate. */
    public <T> T run(Supplier<T> work) {
        enter();
        try {
            return work.get();
        } finally {
            leave();
        }
    }

    /** Callers running or waiting now. */
    public int admitted() {
        return admitted.get();
    }
}
