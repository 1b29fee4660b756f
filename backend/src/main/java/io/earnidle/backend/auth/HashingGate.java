package io.earnidle.backend.auth;

import java.util.function.Supplier;

import io.earnidle.backend.http.Gate;
import io.earnidle.backend.http.Problem;

/**
 * Bounds the memory anonymous requests can make the server spend on password hashing: at most {@code running}
 * hashes at once (each holds its Argon2id memory cost) and at most {@code waiting} more queued behind them; any
 * request beyond that is refused at once with 503 and {@code Retry-After}, before it allocates anything.
 */
public final class HashingGate {
    private final Gate gate;

    public HashingGate(int running, int waiting) {
        if (running < 1 || waiting < 0) {
            throw new IllegalArgumentException("earnidle.publishers.argon2: max-concurrent >= 1, max-waiting >= 0");
        }
        this.gate = new Gate(running, waiting,
                () -> Problem.unavailable("busy", "too many password checks in progress; try again shortly", 1));
    }

    /** Runs {@code hashing} when a slot is free; 503 when the queue is full. */
    public <T> T run(Supplier<T> hashing) {
        return gate.run(hashing);
    }

    /** Hashes running or queued now. */
    public int admitted() {
        return gate.admitted();
    }
}
