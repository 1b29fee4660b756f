package io.earnidle.backend.leases;

import java.time.Duration;
import java.util.function.BooleanSupplier;

import io.earnidle.backend.background.BackgroundLoop;

/**
 * A daemon thread that runs {@link Leases#expireStalled()} every {@code watchdog-interval-ms}: a job whose node
 * stalled goes back to the queue even when no node polls. None runs when the interval is 0 (polls still re-queue
 * expired leases before they lease; tests call {@link Leases#expireStalled} with their virtual clock). In cluster mode
 * a round runs only on the instance that leads this job ({@code leader}, docs/operations.md "Cluster mode").
 */
public final class LeaseWatchdog implements AutoCloseable {
    private final Leases leases;
    private final long intervalMs;
    private final BooleanSupplier leader;
    private BackgroundLoop loop;

    public LeaseWatchdog(Leases leases, long intervalMs, BooleanSupplier leader) {
        this.leases = leases;
        this.intervalMs = intervalMs;
        this.leader = leader;
    }

    public void start() {
        if (intervalMs > 0) {
            loop = BackgroundLoop.every(Duration.ofMillis(intervalMs)).named("lease-watchdog")
                    .firstAfter(Duration.ZERO).whileLeading(leader)
                    .stopping(BackgroundLoop.Stop.FINISH_ROUND, Duration.ofSeconds(10))
                    .start(leases::expireStalled);
        }
    }

    @Override
    public void close() {
        if (loop != null) {
            loop.close();
        }
    }
}
