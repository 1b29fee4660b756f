package io.earnidle.backend.http;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.earnidle.backend.background.BackgroundLoop;
import io.helidon.config.Config;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http1.Http1ConnectionListener;

/**
 * Cuts off slow clients (slowloris): a request's headers must arrive within {@code headers-timeout-ms} of its
 * request line, and its body within {@code body-timeout-ms} of its headers, however steadily the bytes trickle
 * (a socket read timeout restarts with every byte). A connection past its deadline has its thread interrupted, which
 * closes the socket of a virtual thread blocked in a read. The request line and idle keep-alive connections are
 * left to Helidon's {@code idle-connection-timeout}, the count of connections to its {@code max-tcp-connections}
 * (application.yaml {@code server:}, docs/security.md).
 *
 * <p>The server registers this object as its receive listener (headers) and in its listener context, where
 * {@link Json#readBytes} finds it (body).
 */
public final class SlowClients implements Http1ConnectionListener, AutoCloseable {
    private final long headersTimeoutNanos;
    private final long bodyTimeoutNanos;
    private final Map<Thread, Reading> reading = new ConcurrentHashMap<>();
    private final BackgroundLoop sweeper;

    /** One request part being read on one connection thread, until its deadline. */
    private static final class Reading {
        private final Thread thread;
        private final long deadline;
        private boolean done;
        private boolean expired;

        private Reading(Thread thread, long deadline) {
            this.thread = thread;
            this.deadline = deadline;
        }

        /** Interrupts the reader if it is still reading past the deadline; true once the deadline has passed. */
        private synchronized boolean expireIfLate(long now) {
            if (now - deadline < 0) {
                return false;
            }
            if (!done) {
                expired = true;
                thread.interrupt();
            }
            return true;
        }

        /** Ends the reading; true if it had expired (the thread was interrupted). */
        private synchronized boolean finish() {
            done = true;
            return expired;
        }
    }

    public SlowClients(Duration headersTimeout, Duration bodyTimeout) {
        this.headersTimeoutNanos = headersTimeout.toNanos();
        this.bodyTimeoutNanos = bodyTimeout.toNanos();
        long sweepMs = Math.max(1, Math.min(headersTimeout.toMillis(), bodyTimeout.toMillis()) / 4);
        this.sweeper = BackgroundLoop.start("slow-clients", sweepMs, TimeUnit.MILLISECONDS, this::sweep);
    }

    /** The {@code earnidle.limits.slow-clients} section. */
    public static SlowClients create(Config slowClients) {
        return new SlowClients(Duration.ofMillis(slowClients.get("headers-timeout-ms").asLong().orElse(10_000L)),
                Duration.ofMillis(slowClients.get("body-timeout-ms").asLong().orElse(30_000L)));
    }

    /** The server's instance, if the request came through a server that has one. */
    static SlowClients of(ServerRequest req) {
        return req.listenerContext().context().get(SlowClients.class).orElse(null);
    }

    private void sweep() {
        long now = System.nanoTime();
        for (Reading r : reading.values()) {
            if (r.expireIfLate(now)) {
                // also drops a reading whose request failed before its end was seen (a malformed header)
                reading.remove(r.thread, r);
            }
        }
    }

    private void begin(long timeoutNanos) {
        Thread t = Thread.currentThread();
        reading.put(t, new Reading(t, System.nanoTime() + timeoutNanos));
    }

    /** Ends the current thread's reading; true if it was cut off (its interrupt status is cleared). */
    private boolean end() {
        Reading r = reading.remove(Thread.currentThread());
        if (r == null) {
            return Thread.interrupted(); // the sweep cut it off and dropped it already
        }
        if (r.finish()) {
            Thread.interrupted();
            return true;
        }
        return false;
    }

    @Override
    public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
        begin(headersTimeoutNanos);
    }

    @Override
    public void headers(ConnectionContext ctx, Headers headers) {
        if (end()) {
            throw new CloseConnectionException("request headers took over " + headersTimeoutNanos / 1_000_000
                    + " ms");
        }
    }

    /** Starts the body deadline of the current request (its thread reads the body next). */
    void beginBody() {
        begin(bodyTimeoutNanos);
    }

    /** Ends the body deadline; true if the body came too late (the connection was cut off). */
    boolean endBody() {
        return end();
    }

    @Override
    public void close() {
        sweeper.close();
    }
}
