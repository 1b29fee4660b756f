package io.earnidle.backend.reputation;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

import io.helidon.config.Config;

/**
 * Reputation, tiers, tier sampling and redundant execution: the keys under {@code earnidle.trust} that
 * docs/trust.md lists.
 *
 * @param priorSuccesses   successes every identity starts with in the score (with {@code priorFailures}: the score
 *                         of a new identity)
 * @param priorFailures    failures every identity starts with in the score
 * @param failureWeight    how many failures one failed verification counts as in the score
 * @param timeoutWeight    how many failures one lease that expired without a result counts as
 * @param banBelow         an identity whose score is below this is shadow-banned (its polls get no jobs)
 * @param tiers            per tier above Probation: the minimum score and verified successes since the last failure
 * @param sampleRates      per tier: the fraction of results verified
 * @param sampleRateOverride {@code earnidle.trust.sample-rate} when set: one rate for every tier, and no canaries
 *                         and no redundant runs (the single-rate behaviour before tiers); null when not set
 * @param redundancy       when a sampled result is checked by a second identity's run instead of the verifier
 * @param redundancyBacklog in mode {@code backlog}: results waiting for the verifier above which redundancy is used
 * @param redundancyMaxWaitSeconds a result whose replica has not come back after this falls back to the verifier
 */
public record ReputationSettings(double priorSuccesses, double priorFailures, double failureWeight,
                                 double timeoutWeight, int banBelow, Map<Tier, Threshold> tiers,
                                 Map<Tier, Double> sampleRates, Double sampleRateOverride, Redundancy redundancy,
                                 int redundancyBacklog, long redundancyMaxWaitSeconds) {
    /** The minimum score and verified successes since the last failure of a tier. */
    public record Threshold(int minScore, long minSuccesses) {
    }

    /** Redundant execution: never, for every sampled result, or only when the verifier's backlog is long. */
    public enum Redundancy { OFF, ALWAYS, BACKLOG }

    public ReputationSettings {
        tiers = Map.copyOf(tiers);
        sampleRates = Map.copyOf(sampleRates);
        if (!(priorSuccesses > 0) || !(priorFailures >= 0) || !(failureWeight >= 0) || !(timeoutWeight >= 0)) {
            throw new IllegalArgumentException("earnidle.trust.reputation: prior-successes must be > 0 and the "
                    + "other weights >= 0");
        }
        if (banBelow < 0 || banBelow > 100) {
            throw new IllegalArgumentException("earnidle.trust.reputation.ban-below must be in [0, 100]");
        }
        for (Tier t : Tier.values()) {
            Double r = sampleRates.get(t);
            if (r == null || !(r >= 0 && r <= 1)) {
                throw new IllegalArgumentException("earnidle.trust.tiers." + t.key() + ".sample-rate must be in [0, 1]");
            }
        }
        if (!tiers.containsKey(Tier.VERIFIED) || !tiers.containsKey(Tier.TRUSTED)
                || tiers.get(Tier.TRUSTED).minScore() < tiers.get(Tier.VERIFIED).minScore()
                || tiers.get(Tier.TRUSTED).minSuccesses() < tiers.get(Tier.VERIFIED).minSuccesses()) {
            throw new IllegalArgumentException("earnidle.trust.tiers: trusted needs at least verified's thresholds");
        }
        if (sampleRateOverride != null && !(sampleRateOverride >= 0 && sampleRateOverride <= 1)) {
            throw new IllegalArgumentException("earnidle.trust.sample-rate must be in [0, 1]");
        }
        if (redundancyBacklog < 0 || redundancyMaxWaitSeconds < 1) {
            throw new IllegalArgumentException("earnidle.trust.redundancy: backlog >= 0, max-wait-seconds >= 1");
        }
    }

    public static ReputationSettings from(Config trust) {
        Config rep = trust.get("reputation");
        Config tiers = trust.get("tiers");
        Map<Tier, Threshold> thresholds = new EnumMap<>(Tier.class);
        thresholds.put(Tier.VERIFIED, new Threshold(tiers.get("verified.min-score").asInt().orElse(60),
                tiers.get("verified.min-successes").asLong().orElse(20L)));
        thresholds.put(Tier.TRUSTED, new Threshold(tiers.get("trusted.min-score").asInt().orElse(85),
                tiers.get("trusted.min-successes").asLong().orElse(100L)));
        Map<Tier, Double> rates = new EnumMap<>(Tier.class);
        rates.put(Tier.PROBATION, tiers.get("probation.sample-rate").asDouble().orElse(1.0));
        rates.put(Tier.VERIFIED, tiers.get("verified.sample-rate").asDouble().orElse(0.2));
        rates.put(Tier.TRUSTED, tiers.get("trusted.sample-rate").asDouble().orElse(0.05));
        Config red = trust.get("redundancy");
        return new ReputationSettings(
                rep.get("prior-successes").asDouble().orElse(2.0),
                rep.get("prior-failures").asDouble().orElse(2.0),
                rep.get("failure-weight").asDouble().orElse(100.0),
                rep.get("timeout-weight").asDouble().orElse(0.5),
                rep.get("ban-below").asInt().orElse(20),
                thresholds, rates,
                trust.get("sample-rate").asDouble().asOptional().orElse(null),
                Redundancy.valueOf(red.get("mode").asString().orElse("off").toUpperCase(Locale.ROOT)),
                red.get("backlog").asInt().orElse(64),
                red.get("max-wait-seconds").asLong().orElse(600L));
    }

    /** The fraction of a tier's results that are verified (the override when {@code sample-rate} is set). */
    public double sampleRate(Tier tier) {
        return sampleRateOverride != null ? sampleRateOverride : sampleRates.get(tier);
    }

    /** Whether canaries and redundant runs are on: not in the single-rate mode of {@code sample-rate}. */
    public boolean checkJobsEnabled() {
        return sampleRateOverride == null;
    }
}
