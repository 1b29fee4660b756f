package io.earnidle.backend.leases;

import java.time.Duration;
import java.time.Instant;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Problem;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

import static io.earnidle.backend.db.Database.ts;

/**
 * The registration rate limit: one client address may register at most {@code registration.max-per-window} node
 * sessions on one placement within {@code registration.window-seconds}; the next gets 429 with {@code Retry-After}
 * (when the oldest registration in the window leaves it). Registrations are recorded in {@code node_registrations}.
 */
public final class RegistrationLimit {
    private final LeaseSettings settings;

    public RegistrationLimit(LeaseSettings settings) {
        this.settings = settings;
    }

    /** Throws 429 when {@code client} used up its registrations on {@code placementId}. */
    public void check(DbExecute exec, String client, String placementId, Instant now) {
        Duration window = Duration.ofSeconds(settings.registrationWindowSeconds());
        // one row (a count and the oldest time), not every registration in the window: with a high limit (a load
        // test's 5,000 nodes behind one address) reading them all made each registration cost as many rows
        DbRow recent = Database.get(exec, "registrations-in-window", client, placementId, ts(now.minus(window)))
                .orElseThrow();
        long registered = Math.min(Database.lng(recent, "n"), settings.registrationsPerWindow());
        if (registered >= settings.registrationsPerWindow()) {
            Instant oldest = Database.instant(recent, "oldest");
            long retry = Math.max(1, Duration.between(now, oldest.plus(window)).toSeconds() + 1);
            throw Problem.rateLimited("rate-limited", "Too many registrations",
                    "this address registered " + registered + " node sessions on placement " + placementId
                            + " within " + window.toSeconds() + " s, the most allowed; try again in " + retry
                            + " s", retry);
        }
    }

    /** Records a registration (in the transaction that creates the session). */
    public void record(DbExecute exec, String sessionId, String client, String placementId, Instant now) {
        exec.namedInsert("insert-node-registration", sessionId, client, placementId, ts(now));
    }
}
