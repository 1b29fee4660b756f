package io.earnidle.backend.settings;

import java.time.Duration;
import java.util.List;

import io.helidon.config.Config;

/**
 * Configuration of the publisher features, read from the {@code earnidle:} section.
 *
 * @param dnsResolver            {@code earnidle.dns.resolver}: empty for the system resolver, else host:port
 * @param dnsTimeout             {@code earnidle.dns.timeout-ms}
 * @param recheckInterval        {@code earnidle.dns.recheck-interval-seconds}: how often verified domains are
 *                               re-checked (0 = never)
 * @param sessionLifetime        {@code earnidle.publishers.session-hours}
 * @param loginMaxFailures       failed sign-ins per e-mail within the window before 429
 * @param loginMaxClientFailures failed sign-ins per client address within the window before 429
 * @param loginWindow            {@code earnidle.publishers.login.window-seconds}
 * @param argon2MemoryKb         Argon2id memory cost
 * @param argon2Iterations       Argon2id time cost
 * @param shareMinBps            smallest publisher share a placement may set (rate card)
 * @param shareMaxBps            largest publisher share a placement may set (rate card)
 * @param activeSessionWindow    a node session seen within this window counts as "active now"
 * @param demoVerifiedOrigins    {@code earnidle.demo.verified-origins}: origins verified by configuration for the
 *                               demo placement only (loopback names cannot be DNS-verified)
 * @param maxDomains             domains per publisher
 * @param maxPlacements          placements per publisher
 * @param argon2MaxConcurrent    password hashes computed at once (each holds {@code argon2MemoryKb})
 * @param argon2MaxWaiting       password hashes queued behind those; more are refused with 503
 * @param signupMaxPerClient     sign-ups per client address within {@code signupWindow} before 429
 * @param signupWindow           {@code earnidle.publishers.signup.window-seconds}
 * @param payoutWalletChangeDelay how long after a (re-authenticated) change a new payout wallet replaces a proved one
 * @param reauthWindow           a portal session signed in this recently counts as re-authenticated
 */
public record PublisherSettings(String dnsResolver,
                                Duration dnsTimeout,
                                Duration recheckInterval,
                                Duration sessionLifetime,
                                int loginMaxFailures,
                                int loginMaxClientFailures,
                                Duration loginWindow,
                                int argon2MemoryKb,
                                int argon2Iterations,
                                int shareMinBps,
                                int shareMaxBps,
                                Duration activeSessionWindow,
                                List<String> demoVerifiedOrigins,
                                int maxDomains,
                                int maxPlacements,
                                int argon2MaxConcurrent,
                                int argon2MaxWaiting,
                                int signupMaxPerClient,
                                Duration signupWindow,
                                Duration payoutWalletChangeDelay,
                                Duration reauthWindow) {

    public static PublisherSettings from(Config earnidle) {
        PublisherSettings s = new PublisherSettings(
                earnidle.get("dns.resolver").asString().orElse(""),
                Duration.ofMillis(earnidle.get("dns.timeout-ms").asInt().orElse(3000)),
                Duration.ofSeconds(earnidle.get("dns.recheck-interval-seconds").asLong().orElse(3600L)),
                Duration.ofHours(earnidle.get("publishers.session-hours").asLong().orElse(168L)),
                earnidle.get("publishers.login.max-failures").asInt().orElse(5),
                earnidle.get("publishers.login.max-client-failures").asInt().orElse(50),
                Duration.ofSeconds(earnidle.get("publishers.login.window-seconds").asLong().orElse(900L)),
                earnidle.get("publishers.argon2.memory-kb").asInt().orElse(19456),
                earnidle.get("publishers.argon2.iterations").asInt().orElse(2),
                earnidle.get("rates.publisher-share-min-bps").asInt().orElse(0),
                earnidle.get("rates.publisher-share-max-bps").asInt().orElse(5000),
                Duration.ofSeconds(earnidle.get("publishers.active-session-seconds").asLong().orElse(120L)),
                earnidle.get("demo.verified-origins").asList(String.class).orElse(List.of()),
                earnidle.get("publishers.max-domains").asInt().orElse(50),
                earnidle.get("publishers.max-placements").asInt().orElse(100),
                earnidle.get("publishers.argon2.max-concurrent").asInt().orElse(2),
                earnidle.get("publishers.argon2.max-waiting").asInt().orElse(16),
                earnidle.get("publishers.signup.max-per-client").asInt().orElse(20),
                Duration.ofSeconds(earnidle.get("publishers.signup.window-seconds").asLong().orElse(3600L)),
                Duration.ofHours(earnidle.get("publishers.payout-wallet-change-delay-hours").asLong().orElse(48L)),
                Duration.ofSeconds(earnidle.get("publishers.reauth-seconds").asLong().orElse(600L)));
        s.check();
        return s;
    }

    private void check() {
        require(!recheckInterval.isNegative(), "earnidle.dns.recheck-interval-seconds must be >= 0");
        require(loginMaxFailures > 0 && loginMaxClientFailures > 0, "earnidle.publishers.login.* must be > 0");
        require(argon2MemoryKb >= 8 && argon2Iterations >= 1 && argon2MaxConcurrent >= 1 && argon2MaxWaiting >= 0,
                "earnidle.publishers.argon2.* out of range");
        require(signupMaxPerClient >= 1 && signupWindow.toSeconds() >= 1,
                "earnidle.publishers.signup.max-per-client and window-seconds must be >= 1");
        require(!payoutWalletChangeDelay.isNegative() && !reauthWindow.isNegative(),
                "earnidle.publishers.payout-wallet-change-delay-hours and reauth-seconds must be >= 0");
        require(shareMinBps >= 0 && shareMinBps <= shareMaxBps && shareMaxBps <= 10000,
                "earnidle.rates.publisher-share-min-bps <= publisher-share-max-bps, both 0..10000");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
