package io.earnidle.backend.auth;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.earnidle.backend.billing.RateCounters;
import io.earnidle.backend.http.Problem;

/**
 * Sign-ups per client address in a fixed window ({@code earnidle.publishers.signup.*}), checked before the
 * password is hashed, so a flood from one address costs one refusal each, not an Argon2id hash and a row. Counted
 * in memory by a single backend instance; in cluster mode the instances count together in the database
 * ({@code shared}: a sliding window there, so the limit holds across them). In memory the table of addresses drops
 * windows that have ended whenever it grows past {@link #MAX_CLIENTS}, and refuses new addresses while it is full
 * of live ones, so the limiter itself cannot be grown without bound.
 */
final class SignupLimit {
    static final int MAX_CLIENTS = 100_000;

    private record Window(Instant start, int count) {
    }

    private final int maxPerClient;
    private final Duration window;
    private final Map<String, Window> clients = new HashMap<>();
    private final RateCounters shared;

    /** @param shared the cluster's counters, or null to count in this instance's memory */
    SignupLimit(int maxPerClient, Duration window, RateCounters shared) {
        this.maxPerClient = maxPerClient;
        this.window = window;
        this.shared = shared;
    }

    /** Counts one sign-up attempt by {@code client} at {@code now}; 429 with Retry-After over the limit. */
    void admit(String client, Instant now) {
        if (shared == null) {
            admitHere(client, now);
            return;
        }
        Optional<RateCounters.Refusal> refused = shared.admit(client,
                List.of(new RateCounters.Count("signups", window, 1, maxPerClient)), now);
        if (refused.isPresent()) {
            throw refused(Duration.ofSeconds(refused.get().waitSeconds()));
        }
    }

    private synchronized void admitHere(String client, Instant now) {
        Window w = clients.get(client);
        if (w == null || !now.isBefore(w.start().plus(window))) {
            if (w == null && clients.size() >= MAX_CLIENTS) {
                clients.values().removeIf(x -> !now.isBefore(x.start().plus(window)));
                if (clients.size() >= MAX_CLIENTS) {
                    throw refused(Duration.ofSeconds(60));
                }
            }
            clients.put(client, new Window(now, 1));
            return;
        }
        if (w.count() >= maxPerClient) {
            throw refused(Duration.between(now, w.start().plus(window)));
        }
        clients.put(client, new Window(w.start(), w.count() + 1));
    }

    private Problem refused(Duration retryAfter) {
        return Problem.rateLimited("rate-limited", "Too many sign-ups",
                "too many sign-ups from this address; try again later", Math.max(1, retryAfter.toSeconds()));
    }
}
