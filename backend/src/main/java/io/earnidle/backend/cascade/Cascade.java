package io.earnidle.backend.cascade;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.earnidle.backend.background.BackgroundLoop;
import io.earnidle.backend.billing.RateCard;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.db.StoredText;
import io.earnidle.backend.jobs.JobCharges;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.models.Models;
import io.helidon.config.Config;
import io.helidon.dbclient.DbRow;

import static io.earnidle.backend.db.Database.ts;

/**
 * The cascade (issue 21, docs/api.md "Cascade"): a customer's job that is still queued when its class's deadline has
 * passed (counted from its submission, or from its last move) goes to the class's next tier. A class of nodes
 * ({@code verified}, {@code trusted}) takes it by raising the job's {@code min_tier}; the tier {@code upstream} claims
 * it ({@code cascading}), calls the upstream API and records its answer, charged at the job's own rate for the
 * upstream's completion tokens, in one transaction that completes the job.
 *
 * <p>Every move is one conditional UPDATE on the job's version and status, as a node's lease is: when a node polls
 * the job at the moment it cascades, exactly one of the two UPDATEs matches the row, so the job is never served or
 * billed twice. An upstream answer is recorded only while the job is still {@code cascading}; a call that outlives
 * its timeout (the backend stopped during it) fails the job, which then costs nothing.
 */
public final class Cascade implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Cascade.class.getName());
    private static final int BATCH = 64;
    /** A cascading job older than the upstream's timeout plus this has no call left that could record it. */
    private static final long STALE_GRACE_SECONDS = 60;

    private final CascadeSettings settings;
    private final Database db;
    private final Ledger ledger;
    private final Models models;
    private final RateCard rates;
    private final Optional<UpstreamClient> upstream;
    private final ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();
    private BackgroundLoop rounds;

    public Cascade(CascadeSettings settings, Database db, Ledger ledger, Models models, RateCard rates) {
        this.settings = settings;
        this.db = db;
        this.ledger = ledger;
        this.models = models;
        this.rates = rates;
        this.upstream = settings.upstream().map(UpstreamClient::new);
    }

    /** The cascade of the {@code earnidle.cascade} section, its background rounds started. */
    public static Cascade create(Config cascade, Database db, Ledger ledger, Models models,
                                 RateCard rates) {
        Cascade c = new Cascade(CascadeSettings.from(cascade), db, ledger, models, rates);
        c.start();
        return c;
    }

    /** Starts the background rounds (none when {@code interval-ms} is 0 or no class is configured). */
    public synchronized void start() {
        if (rounds == null && !settings.classes().isEmpty() && settings.intervalMs() > 0) {
            rounds = BackgroundLoop.every(Duration.ofMillis(settings.intervalMs())).named("cascade")
                    .start(this::runDue);
        }
    }

    /** One round at the ledger's clock; returns how many jobs moved to another tier. */
    public int runDue() {
        return runDue(ledger.now());
    }

    /**
     * One round at {@code now}: fails cascading jobs whose call cannot answer any more, moves each class's jobs that
     * are due to the next tier, and returns once every upstream call of the round has been answered and recorded
     * (or has failed). Returns how many jobs moved.
     */
    public int runDue(Instant now) {
        upstream.ifPresent(u -> failStale(now));
        int moved = 0;
        List<String> claimed = new ArrayList<>();
        for (Map.Entry<String, CascadeSettings.Step> c : settings.classes().entrySet()) {
            String next = c.getValue().next();
            List<DbRow> due = Database.list(db.execute(), "cascade-due", c.getKey(),
                    ts(now.minus(c.getValue().deadline())), BATCH);
            for (DbRow job : due) {
                String id = Database.str(job, "id");
                long version = Database.lng(job, "version");
                boolean won = CascadeSettings.UPSTREAM.equals(next)
                        ? db.execute().namedUpdate("cascade-claim-upstream", ts(now), id, version) == 1
                        : db.execute().namedUpdate("cascade-to-nodes", next, next, ts(now), id, version) == 1;
                if (!won) {
                    continue; // a node leased it, it was cancelled or another instance moved it, meanwhile
                }
                moved++;
                LOG.info(() -> "job " + id + " of class " + c.getKey() + " not started in " + c.getValue().deadline()
                        + ": cascaded to " + next);
                if (CascadeSettings.UPSTREAM.equals(next)) {
                    claimed.add(id);
                }
            }
        }
        serveUpstream(claimed);
        return moved;
    }

    private void serveUpstream(List<String> jobIds) {
        List<Future<?>> running = new ArrayList<>();
        for (String id : jobIds) {
            running.add(calls.submit(() -> serve(id)));
        }
        for (Future<?> f : running) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException e) {
                LOG.log(Level.WARNING, "upstream call failed", e.getCause());
            }
        }
    }

    /** Calls the upstream for the claimed job {@code jobId} and records its answer, or fails the job. */
    private void serve(String jobId) {
        DbRow job = Database.get(db.execute(), "job-by-id", jobId).orElseThrow();
        long start = System.nanoTime();
        UpstreamClient.Answer answer;
        try {
            answer = upstream.orElseThrow().complete(job);
        } catch (UpstreamClient.Failure e) {
            fail(jobId, e.getMessage());
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(jobId, "interrupted while waiting for the upstream");
            return;
        }
        double ms = (System.nanoTime() - start) / 1e6;
        boolean recorded = db.inTransaction(tx -> {
            DbRow locked = Database.get(tx, "lock-job", jobId).orElseThrow();
            if (!"cascading".equals(Database.str(locked, "status"))) {
                return false; // failed as stale meanwhile: neither served nor billed
            }
            Models.Model model = models.find(tx, Database.str(locked, "model_id")).orElseThrow();
            int completion = (int) Math.min(answer.completionTokens(), Database.lng(locked, "max_tokens"));
            long charge = JobCharges.charge(tx, rates, models, model, locked, completion);
            String chargeTx = ledger.post(tx, "job_payout", jobId, List.of(
                    new Ledger.Entry(Ledger.accountId("customer", Database.str(locked, "customer_id")), -charge),
                    new Ledger.Entry(Ledger.PLATFORM_ACCOUNT, charge)), false);
            Instant now = ledger.now();
            tx.namedInsert("cascade-insert-result", jobId, CascadeSettings.UPSTREAM,
                    StoredText.encode(answer.text()), answer.finishReason(), answer.promptTokens(), completion, ms,
                    chargeTx, ts(now));
            if (tx.namedUpdate("cascade-complete", ts(now), jobId) != 1) {
                throw new IllegalStateException("job " + jobId + " changed under its row lock");
            }
            return true;
        });
        LOG.info(() -> "job " + jobId + (recorded ? " served by the upstream" : ": the upstream's late answer dropped"));
    }

    private void fail(String jobId, String why) {
        String detail = "upstream: " + why;
        db.execute().namedUpdate("cascade-fail", detail.length() > 1000 ? detail.substring(0, 1000) : detail, jobId);
        LOG.warning(() -> "job " + jobId + " failed at the upstream, released in full: " + why);
    }

    /** Fails the cascading jobs no call can record any more (the backend stopped while it waited for them). */
    private void failStale(Instant now) {
        Instant before = now.minus(settings.requireUpstream().timeout()).minusSeconds(STALE_GRACE_SECONDS);
        for (DbRow job : Database.list(db.execute(), "cascade-stale", ts(before))) {
            fail(Database.str(job, "id"), "no answer recorded before " + before);
        }
    }

    @Override
    public void close() {
        calls.shutdownNow();
        BackgroundLoop r;
        synchronized (this) {
            r = rounds;
        }
        if (r != null) {
            r.close();
        }
    }
}
