package io.earnidle.backend.capability;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.ToIntFunction;
import java.util.logging.Logger;

import io.earnidle.backend.db.Database;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

import static io.earnidle.backend.db.Database.ts;

/**
 * Results held for a new benchmark (docs/trust.md, "Timing plausibility"): a result on the benchmark model more than
 * {@code plausibility.capability-factor} x faster than its engine's measured capability may come from an honest node
 * whose benchmark ran while its machine was busy, so it does not fail at once. Its engine's capability becomes
 * {@code stale} (the session's next poll leases a new benchmark and no customer job until it is measured), its credit
 * stays pending and the verifier leaves it until the new benchmark is recorded: then it is assessed again against the
 * new capability and verified as usual when plausible, or failed like a forged result when it is still too fast (or
 * the new benchmark's own timing failed). A result whose engine is not benchmarked again within
 * {@code plausibility.rebenchmark-wait-seconds} fails with the reason it was held for (the verifier's part).
 */
final class HeldTimings {
    private static final Logger LOG = Logger.getLogger(HeldTimings.class.getName());
    private final CapabilitySettings settings;

    HeldTimings(CapabilitySettings settings) {
        this.settings = settings;
    }

    /** Holds the result of {@code jobId} (written in this transaction) for a new benchmark of its engine. */
    void hold(DbExecute tx, String sessionId, String engine, String jobId, String reason, Instant now) {
        tx.namedUpdate("cap-hold-for-benchmark", reason,
                ts(now.plus(Duration.ofSeconds(settings.rebenchmarkWaitSeconds()))), jobId);
        tx.namedUpdate("cap-mark-stale", sessionId, engine);
        LOG.info(() -> "session " + sessionId + ": result of " + jobId + " held for a new benchmark of " + engine
                + " (" + reason + ")");
    }

    /**
     * A benchmark of {@code engine} was recorded as {@code measured} ({@code m}), or failed ({@code m} null): each
     * result of the session's engine held for it is released, marked implausible when it is still too fast for the
     * new capability or the benchmark failed. {@code promptTokens} reads a held result's prompt length from its row
     * (which carries its job's prompt columns), as its first assessment did.
     */
    void benchmarked(DbExecute tx, String sessionId, String engine, TimingPlausibility.Measured m,
                     ToIntFunction<DbRow> promptTokens) {
        for (DbRow r : Database.list(tx, "cap-held-results", sessionId, engine)) {
            String jobId = Database.str(r, "job_id");
            TimingPlausibility.Timing t = new TimingPlausibility.Timing(promptTokens.applyAsInt(r),
                    (int) Database.lng(r, "token_count"), Database.dbl(r, "prefill_ms"), Database.dbl(r, "decode_ms"));
            String implausible = m == null
                    ? Database.str(r, "timing_recheck") + "; the new benchmark failed"
                    : TimingPlausibility.againstCapability(settings, t, m).map(why -> why + " (benchmarked again)")
                            .orElse(null);
            tx.namedUpdate("cap-release-held", implausible, jobId);
            LOG.info(() -> "session " + sessionId + ": held result of " + jobId + " released after a new benchmark: "
                    + Optional.ofNullable(implausible).orElse("plausible, verified as usual"));
        }
    }
}
