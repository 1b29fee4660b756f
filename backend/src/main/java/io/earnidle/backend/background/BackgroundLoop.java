package io.earnidle.backend.background;

import java.time.Duration;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A round of background work run on one daemon platform thread with a fixed delay between rounds until closed: the
 * deposit watcher, the payout sender, the domain re-check, the cascade, the lease watchdog, cluster leadership's
 * renewal and the slow-client sweep. A round runs only while its {@code leader} says so (cluster mode:
 * docs/operations.md); a failed round is logged and the next one retries. How {@link #close} stops a round in flight
 * is the loop's {@link Stop}.
 */
public final class BackgroundLoop implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(BackgroundLoop.class.getName());

    /** How {@link #close} treats a round in flight. */
    public enum Stop {
        /** Interrupts it (and the wait between rounds), then waits for the thread up to the close wait. */
        INTERRUPT,
        /** Lets it finish, up to the close wait; interrupts it only after that. */
        FINISH_ROUND
    }

    /** One round of work. */
    @FunctionalInterface
    public interface Round {
        void run() throws Exception;
    }

    private final String name;
    private final long firstAfterMs;
    private final long everyMs;
    private final BooleanSupplier leader;
    private final Stop stop;
    private final Duration closeWait;
    private final Round round;
    private final Object signal = new Object();
    private volatile boolean closed;
    private final Thread thread;

    private BackgroundLoop(Builder b, Round round) {
        this.name = b.name;
        this.firstAfterMs = b.firstAfter.toMillis();
        this.everyMs = b.every.toMillis();
        this.leader = b.leader;
        this.stop = b.stop;
        this.closeWait = b.closeWait;
        this.round = round;
        this.thread = Thread.ofPlatform().daemon().name(name).unstarted(this::run);
    }

    /** A loop whose rounds are {@code every} apart (the delay from one round's end to the next one's start). */
    public static Builder every(Duration every) {
        return new Builder(every);
    }

    /** A loop named {@code name} every {@code every} {@code unit}s, the first round after one delay. */
    public static BackgroundLoop start(String name, long every, java.util.concurrent.TimeUnit unit, Round round) {
        Duration d = Duration.ofNanos(unit.toNanos(every));
        return every(d).named(name).start(round);
    }

    /** The settings of a loop before it starts. */
    public static final class Builder {
        private final Duration every;
        private String name = "background-loop";
        private Duration firstAfter;
        private BooleanSupplier leader = () -> true;
        private Stop stop = Stop.INTERRUPT;
        private Duration closeWait = Duration.ofSeconds(10);

        private Builder(Duration every) {
            if (every.isNegative() || every.isZero()) {
                throw new IllegalArgumentException("a background loop needs a positive interval, got " + every);
            }
            this.every = every;
            this.firstAfter = every;
        }

        /** The thread's name, also used in the log. */
        public Builder named(String name) {
            this.name = Objects.requireNonNull(name);
            return this;
        }

        /** The delay before the first round (default: one interval). */
        public Builder firstAfter(Duration firstAfter) {
            this.firstAfter = Objects.requireNonNull(firstAfter);
            return this;
        }

        /** Each round runs only while {@code leader} (default: always). */
        public Builder whileLeading(BooleanSupplier leader) {
            this.leader = Objects.requireNonNull(leader);
            return this;
        }

        /** How {@link #close} stops a round in flight, and how long it waits for the thread (default: interrupt, 10 s). */
        public Builder stopping(Stop stop, Duration closeWait) {
            this.stop = Objects.requireNonNull(stop);
            this.closeWait = Objects.requireNonNull(closeWait);
            return this;
        }

        /** Starts the loop. */
        public BackgroundLoop start(Round round) {
            BackgroundLoop loop = new BackgroundLoop(this, Objects.requireNonNull(round));
            loop.thread.start();
            return loop;
        }
    }

    private void run() {
        long delayMs = firstAfterMs;
        while (pause(delayMs)) {
            try {
                if (leader.getAsBoolean()) {
                    round.run();
                }
            } catch (Exception e) {
                if (closed) {
                    return;
                }
                LOG.log(Level.WARNING, name + ": round failed; the next round retries: " + e.getMessage(), e);
            }
            delayMs = everyMs;
        }
    }

    /** Waits {@code ms} unless closed first; true to run the next round. */
    private boolean pause(long ms) {
        long end = System.nanoTime() + ms * 1_000_000;
        synchronized (signal) {
            while (!closed) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return true;
                }
                try {
                    signal.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    return false;
                }
            }
            return false;
        }
    }

    /** Stops the loop as its {@link Stop} says; idempotent. */
    @Override
    public void close() {
        closed = true;
        synchronized (signal) {
            signal.notifyAll();
        }
        if (stop == Stop.INTERRUPT) {
            thread.interrupt();
        }
        try {
            thread.join(closeWait);
            if (thread.isAlive() && stop == Stop.FINISH_ROUND) {
                thread.interrupt();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
