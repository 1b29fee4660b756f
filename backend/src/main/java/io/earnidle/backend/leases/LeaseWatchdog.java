package io.earnidle.backend.leases;

import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A daemon thread that runs {@link Leases#expireStalled()} every {@code watchdog-interval-ms}: a job whose node
 * stalled goes back to the queue even when no node polls. None runs when the interval is 0 (polls still re-queue
 * expired leases before they lease; tests call {@link Leases#expireStalled} with their virtual clock). In cluster mode
 * a round runs only on the instance that leads this job ({@code leader}, docs/operations.md "Cluster mode").
 */
public final class LeaseWatchdog implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LeaseWatchdog.class.getName());

    private final Leases leases;
    private final long intervalMs;
    private final BooleanSupplier leader;
    private final Object signal = new Object();
    private volatile boolean closed;
    private Thread thread;

    public LeaseWatchdog(Leases leases, long intervalMs, BooleanSupplier leader) {
        this.leases = leases;
        this.intervalMs = intervalMs;
        this.leader = leader;
    }

    public void start() {
        if (intervalMs > 0) {
            thread = Thread.ofPlatform().daemon().name("lease-watchdog").start(this::run);
        }
    }

    private void run() {
        while (!closed) {
            try {
                if (leader.getAsBoolean()) {
                    leases.expireStalled();
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "lease watchdog round failed", e);
            }
            synchronized (signal) {
                if (closed) {
                    return;
                }
                try {
                    signal.wait(intervalMs);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (signal) {
            signal.notifyAll();
        }
        if (thread != null) {
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
