package io.earnidle.backend.openai;

import java.time.Duration;

import io.helidon.config.Config;

/**
 * The {@code earnidle.openai:} configuration section (docs/api.md).
 *
 * @param maxWait           how long a request waits for its job's accepted result before it is answered with a
 *                          timeout error (the job itself goes on)
 * @param pollInterval      how often a waiting request looks at its job and its partial output
 * @param requestsPerMinute requests per API key per minute over all of {@code /v1}; 0 = no limit
 */
public record OpenAiSettings(Duration maxWait, Duration pollInterval, int requestsPerMinute) {
    public OpenAiSettings {
        if (maxWait.isNegative() || maxWait.isZero()) {
            throw new IllegalArgumentException("earnidle.openai.max-wait-seconds must be > 0");
        }
        if (pollInterval.isNegative() || pollInterval.isZero()) {
            throw new IllegalArgumentException("earnidle.openai.poll-interval-ms must be > 0");
        }
        if (requestsPerMinute < 0) {
            throw new IllegalArgumentException("earnidle.openai.requests-per-minute must be >= 0");
        }
    }

    public static OpenAiSettings from(Config openai) {
        return new OpenAiSettings(Duration.ofSeconds(openai.get("max-wait-seconds").asLong().orElse(300L)),
                Duration.ofMillis(openai.get("poll-interval-ms").asLong().orElse(100L)),
                openai.get("requests-per-minute").asInt().orElse(600));
    }
}
