package io.earnidle.backend.leases;

import java.time.Duration;

import io.helidon.config.Config;

/**
 * The {@code earnidle.leases:} configuration section (docs/trust.md, "Leases that fit the job").
 *
 * @param maxPerSession                 active leases one node session may hold at once
 * @param minSeconds                    shortest lease (and renewal) handed out
 * @param maxSeconds                    longest a lease or a renewal runs from the moment it is granted
 * @param maxTotalSeconds               a lease is never renewed past this long after it was first granted
 * @param overheadSeconds               added to every estimate (request round trips, engine load, submission)
 * @param safetyFactor                  the estimated time is multiplied by this
 * @param defaultPrefillTokensPerS      prefill speed assumed for a node without a better figure, on a model of
 *                                      {@code referenceModelBytes} (scaled inversely with the model's file size)
 * @param defaultDecodeTokensPerS       decode speed assumed likewise
 * @param referenceModelBytes           the model size the default speeds are given for
 * @param minBandwidthKbps              download speed assumed for a model the node does not hold (kbit/s); a node
 *                                      whose bandwidth limit is lower is assumed to download at its limit
 * @param watchdogIntervalMs            how often the watchdog re-queues expired leases (0: no background thread;
 *                                      polls still re-queue them, and tests call {@link Leases#expireStalled})
 * @param sessionMaxAgeSeconds          a node session expires this long after registration (401; register again)
 * @param registrationsPerWindow        registrations one client address may make on one placement per window
 * @param registrationWindowSeconds     the window of the registration rate limit
 * @param skipLockedDispatch            a poll reads its candidate jobs {@code FOR UPDATE SKIP LOCKED} (rows another
 *                                      poll is claiming are passed over, not waited for) before the conditional
 *                                      claim; false: the conditional claim alone ({@code dispatch})
 * @param maxPollsInFlight              polls one backend instance runs at once, with as many waiting; a poll beyond
 *                                      those is answered 503 with Retry-After at once
 *                                      ({@code inference/PollAdmission}); 0: no bound; {@link #POLLS_HALF_THE_POOL}:
 *                                      half the instance's database connections
 */
public record LeaseSettings(int maxPerSession, long minSeconds, long maxSeconds, long maxTotalSeconds,
                            double overheadSeconds, double safetyFactor, double defaultPrefillTokensPerS,
                            double defaultDecodeTokensPerS, long referenceModelBytes, long minBandwidthKbps,
                            long watchdogIntervalMs, long sessionMaxAgeSeconds, int registrationsPerWindow,
                            long registrationWindowSeconds, boolean skipLockedDispatch, int maxPollsInFlight) {
    /** {@code max-polls-in-flight} unset: half the instance's database connections (at least one). */
    public static final int POLLS_HALF_THE_POOL = -1;

    public LeaseSettings {
        require(maxPerSession >= 1, "max-per-session must be >= 1");
        require(minSeconds >= 1 && maxSeconds >= minSeconds && maxTotalSeconds >= maxSeconds,
                "need 1 <= min-seconds <= max-seconds <= max-total-seconds");
        require(overheadSeconds >= 0 && safetyFactor >= 1, "need overhead-seconds >= 0 and safety-factor >= 1");
        require(defaultPrefillTokensPerS > 0 && defaultDecodeTokensPerS > 0 && referenceModelBytes > 0,
                "default speeds and reference-model-bytes must be > 0");
        require(minBandwidthKbps > 0, "min-bandwidth-kbps must be > 0");
        require(watchdogIntervalMs >= 0, "watchdog-interval-ms must be >= 0");
        require(sessionMaxAgeSeconds > 0, "session-max-age-seconds must be > 0");
        require(registrationsPerWindow >= 1 && registrationWindowSeconds >= 1,
                "registration.max-per-window and registration.window-seconds must be >= 1");
        require(maxPollsInFlight >= 0 || maxPollsInFlight == POLLS_HALF_THE_POOL, "max-polls-in-flight must be >= 0");
    }

    /** The bound on polls in flight for an instance whose database pool has {@code poolSize} connections; 0: none. */
    public int pollsInFlight(int poolSize) {
        return maxPollsInFlight == POLLS_HALF_THE_POOL ? Math.max(1, poolSize / 2) : maxPollsInFlight;
    }

    /** {@code earnidle.leases.dispatch}: how a poll claims a job. */
    static final String CONDITIONAL_UPDATE = "conditional-update";
    static final String SKIP_LOCKED = "skip-locked";

    private static boolean dispatch(String value) {
        require(CONDITIONAL_UPDATE.equals(value) || SKIP_LOCKED.equals(value),
                "dispatch must be " + CONDITIONAL_UPDATE + " or " + SKIP_LOCKED + ", got " + value);
        return SKIP_LOCKED.equals(value);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("earnidle.leases: " + message);
        }
    }

    public static LeaseSettings from(Config leases) {
        return new LeaseSettings(
                leases.get("max-per-session").asInt().orElse(1),
                leases.get("min-seconds").asLong().orElse(60L),
                leases.get("max-seconds").asLong().orElse(1800L),
                leases.get("max-total-seconds").asLong().orElse(7200L),
                leases.get("overhead-seconds").asDouble().orElse(10.0),
                leases.get("safety-factor").asDouble().orElse(2.0),
                leases.get("default-prefill-tokens-per-s").asDouble().orElse(20.0),
                leases.get("default-decode-tokens-per-s").asDouble().orElse(2.0),
                leases.get("reference-model-bytes").asLong().orElse(1_000_000_000L),
                leases.get("min-bandwidth-kbps").asLong().orElse(2000L),
                leases.get("watchdog-interval-ms").asLong().orElse(1000L),
                leases.get("session-max-age-seconds").asLong().orElse(86_400L),
                leases.get("registration.max-per-window").asInt().orElse(20),
                leases.get("registration.window-seconds").asLong().orElse(600L),
                dispatch(leases.get("dispatch").asString().orElse(CONDITIONAL_UPDATE)),
                pollBound(leases.get("max-polls-in-flight").asString().orElse(HALF_THE_POOL)));
    }

    /** {@code max-polls-in-flight}: a count, or {@code half-the-pool} (the default). */
    static final String HALF_THE_POOL = "half-the-pool";

    private static int pollBound(String value) {
        if (HALF_THE_POOL.equals(value)) {
            return POLLS_HALF_THE_POOL;
        }
        try {
            int n = Integer.parseInt(value.trim());
            require(n >= 0, "max-polls-in-flight must be >= 0 or " + HALF_THE_POOL + ", got " + value);
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("earnidle.leases: max-polls-in-flight must be a count or "
                    + HALF_THE_POOL + ", got " + value, e);
        }
    }

    public Duration sessionMaxAge() {
        return Duration.ofSeconds(sessionMaxAgeSeconds);
    }
}
