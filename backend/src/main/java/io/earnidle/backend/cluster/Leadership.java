package io.earnidle.backend.cluster;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.earnidle.backend.background.BackgroundLoop;
import io.earnidle.backend.db.Database;

import static io.earnidle.backend.db.Database.ts;

/**
 * Which background jobs this backend instance runs. Alone ({@link #single()}, cluster mode off) it runs all of them.
 * In cluster mode each job ({@link #ROLES}) has a row in {@code cluster_leaders}: the instance named there runs it
 * until the row's expiry, renewing it every {@code renew-interval}; when the leader stops renewing (it crashed or
 * lost the database) another instance takes the row with a conditional update once it has expired, so a job runs on
 * one instance at a time and fails over within one {@code leader-lease}. A leader stops running a job as soon as
 * its own view of the lease has run out, before any other instance may take it.
 */
public final class Leadership implements AutoCloseable {
    public static final String LEASE_WATCHDOG = "lease-watchdog";
    public static final String VERIFICATION = "verification";
    public static final String PAYOUTS = "payouts";
    public static final String DEPOSITS = "deposits";
    public static final String DOMAIN_RECHECK = "domain-recheck";
    /** Every background job that runs on one instance at a time (the rows V16 creates). */
    public static final List<String> ROLES = List.of(LEASE_WATCHDOG, VERIFICATION, PAYOUTS, DEPOSITS, DOMAIN_RECHECK);
    private static final Logger LOG = Logger.getLogger(Leadership.class.getName());

    private final ClusterSettings settings;
    private final Database db;
    private final Clock clock;
    private final Map<String, Instant> heldUntil = new ConcurrentHashMap<>();
    private BackgroundLoop renewals;

    private Leadership(ClusterSettings settings, Database db, Clock clock) {
        this.settings = settings;
        this.db = db;
        this.clock = clock;
    }

    /** Cluster mode off: this instance runs every background job. */
    public static Leadership single() {
        return new Leadership(null, null, null);
    }

    /**
     * From {@code earnidle.cluster}: {@link #single()} unless {@code enabled}; cluster mode needs a database other
     * instances can reach (PostgreSQL), so it is refused on the embedded H2 store.
     */
    public static Leadership create(ClusterSettings settings, String databaseUrl, Database db, Clock clock) {
        if (!settings.enabled()) {
            return single();
        }
        if (!databaseUrl.startsWith("jdbc:postgresql:")) {
            throw new IllegalStateException("earnidle.cluster.enabled needs PostgreSQL (db.connection.url "
                    + "jdbc:postgresql://...): the embedded H2 store serves one instance");
        }
        LOG.info("cluster mode: instance " + settings.instanceId() + ", leader lease " + settings.leaderLease());
        return new Leadership(settings, db, clock);
    }

    /** Whether this instance is one of several sharing the database. */
    public boolean clustered() {
        return settings != null;
    }

    /** This instance's name in {@code cluster_leaders}, or "" when alone. */
    public String instanceId() {
        return clustered() ? settings.instanceId() : "";
    }

    /** Whether this instance runs {@code role} now: always when alone; in cluster mode while it holds the row. */
    public boolean holds(String role) {
        if (!clustered()) {
            return true;
        }
        Instant until = heldUntil.get(role);
        return until != null && clock.instant().isBefore(until);
    }

    /** {@link #holds} of one role, for the loop that runs it. */
    public BooleanSupplier role(String role) {
        if (!ROLES.contains(role)) {
            throw new IllegalArgumentException("unknown background job " + role);
        }
        return () -> holds(role);
    }

    /**
     * Renews the rows this instance holds and takes those that expired; returns how many it holds afterwards.
     * A failed renewal (database unreachable) drops nothing at once: each role lapses at its own view of the expiry.
     */
    public int renewOnce() {
        if (!clustered()) {
            return ROLES.size();
        }
        int held = 0;
        for (String role : ROLES) {
            Instant now = clock.instant();
            Instant expires = now.plus(settings.leaderLease());
            try {
                long n = db.execute().namedUpdate("cluster-leader-claim", settings.instanceId(), ts(expires), ts(now),
                        role, settings.instanceId(), ts(now));
                if (n == 1) {
                    if (heldUntil.put(role, expires) == null) {
                        LOG.info("cluster: " + settings.instanceId() + " now runs " + role);
                    }
                } else if (heldUntil.remove(role) != null) {
                    LOG.warning("cluster: " + settings.instanceId() + " no longer runs " + role);
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "cluster: renewing " + role + " failed", e);
            }
            held += holds(role) ? 1 : 0;
        }
        return held;
    }

    /** Starts renewing every {@code renew-interval} on a daemon thread (nothing when alone). */
    public synchronized void start() {
        if (clustered() && renewals == null) {
            renewOnce(); // before the background jobs start, so the first leader runs at once
            renewals = BackgroundLoop.every(settings.renewInterval()).named("cluster-leadership")
                    .stopping(BackgroundLoop.Stop.FINISH_ROUND, Duration.ofSeconds(10))
                    .start(this::renewOnce);
        }
    }

    /**
     * Stops renewing and hands the rows this instance holds back at once (call after the background jobs stopped),
     * so another instance takes them over on its next renewal instead of after the lease.
     */
    @Override
    public void close() {
        if (!clustered()) {
            return;
        }
        BackgroundLoop r;
        synchronized (this) {
            r = renewals;
        }
        if (r != null) {
            r.close();
        }
        heldUntil.clear();
        try {
            db.execute().namedUpdate("cluster-leader-release", ts(Instant.EPOCH), settings.instanceId());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "cluster: handing the background jobs back failed; they move after the lease", e);
        }
    }
}
