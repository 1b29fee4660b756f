package io.earnidle.backend.reputation;

import java.util.Map;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The score, tiers, ban and sampling rates of docs/trust.md, from the shipped configuration. */
class ReputationTest {
    private static ReputationSettings settings(Map<String, String> over) {
        return ReputationSettings.from(Config.builder().disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource().addSource(ConfigSources.create(over))
                .addSource(ConfigSources.classpath("application.yaml")).build().get("earnidle.trust"));
    }

    private final Reputation reputation = new Reputation(settings(Map.of()));

    @Test
    void theShippedRatesAreByTierWithoutAnOverride() {
        ReputationSettings s = settings(Map.of());
        assertNull(s.sampleRateOverride());
        assertEquals(1.0, s.sampleRate(Tier.PROBATION));
        assertEquals(0.2, s.sampleRate(Tier.VERIFIED));
        assertEquals(0.05, s.sampleRate(Tier.TRUSTED));
        assertTrue(s.checkJobsEnabled());
        assertEquals(ReputationSettings.Redundancy.OFF, s.redundancy());
    }

    @Test
    void sampleRateOverridesEveryTierAndTurnsCheckJobsOff() {
        ReputationSettings s = settings(Map.of("earnidle.trust.sample-rate", "0"));
        for (Tier t : Tier.values()) {
            assertEquals(0.0, s.sampleRate(t));
        }
        assertFalse(s.checkJobsEnabled());
        assertThrows(IllegalArgumentException.class, () -> settings(Map.of("earnidle.trust.sample-rate", "1.5")));
        assertThrows(IllegalArgumentException.class,
                () -> settings(Map.of("earnidle.trust.tiers.trusted.min-successes", "5")));
    }

    @Test
    void tiersNeedTheScoreAndSuccessesSinceTheLastFailure() {
        assertEquals(50, reputation.score(0, 0, 0), "a new identity");
        assertEquals(Tier.PROBATION, reputation.standing("wallet:0xa", 19, 0, 0, 19).tier());
        assertEquals(Tier.VERIFIED, reputation.standing("wallet:0xa", 20, 0, 0, 20).tier());
        assertEquals(Tier.TRUSTED, reputation.standing("wallet:0xa", 100, 0, 0, 100).tier());
        assertEquals(Tier.PROBATION, reputation.standing("session:ns_1", 1000, 0, 0, 1000).tier(),
                "no wallet: Probation for good");
        Reputation.Standing caught = reputation.standing("wallet:0xa", 100, 1, 0, 0);
        assertEquals(50, caught.score());
        assertEquals(Tier.PROBATION, caught.tier(), "a detected cheat sends the identity back to Probation");
        assertFalse(caught.banned());
    }

    @Test
    void oneCheatBansAnIdentityWithFewerThan24VerifiedSuccesses() {
        assertTrue(reputation.standing("wallet:0xa", 0, 1, 0, 0).banned());
        assertTrue(reputation.standing("wallet:0xa", 23, 1, 0, 0).banned());
        assertFalse(reputation.standing("wallet:0xa", 24, 1, 0, 0).banned());
        assertFalse(reputation.standing("session:ns_1", 0, 0, 10, 0).banned(), "ten timeouts alone: 22");
        assertFalse(reputation.standing("session:ns_1", 0, 0, 12, 0).banned(), "twelve: 20");
        assertTrue(reputation.standing("session:ns_1", 0, 0, 13, 0).banned(), "thirteen: 19");
    }
}
