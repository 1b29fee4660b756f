package io.earnidle.backend.settings;

import java.nio.file.Path;

import io.earnidle.backend.billing.RateCard;
import io.helidon.config.Config;

/**
 * The {@code earnidle:} configuration section.
 *
 * @param dataDir                   directory for the H2 file and the model files
 * @param pollIntervalMs            poll interval suggested to nodes
 * @param maxPromptChars            longest text prompt (and longest prompt_ids array)
 * @param maxTokens                 largest max_tokens a job may ask for
 * @param maxBodyBytes              largest accepted request body
 * @param rateCard                  the per-model prices (issue 21: per-token billing)
 * @param platformFeeBps            platform fee in basis points of the price
 * @param verificationWindowSeconds credits stay pending this long before they count in the available balance (a
 *                                  job's credits also until its verification is done: docs/trust.md)
 * @param demoCustomerApiKey        API key of the seeded demo customer
 * @param demoCustomerFundingMicroUsdc initial deposit of the demo customer
 */
public record Settings(Path dataDir,
                       int pollIntervalMs,
                       int maxPromptChars,
                       int maxTokens,
                       int maxBodyBytes,
                       RateCard rateCard,
                       int platformFeeBps,
                       long verificationWindowSeconds,
                       String demoCustomerApiKey,
                       long demoCustomerFundingMicroUsdc) {

    public static Settings from(Config earnidle) {
        Settings s = new Settings(
                Path.of(earnidle.get("data-dir").asString().orElse("./data")).toAbsolutePath().normalize(),
                earnidle.get("poll-interval-ms").asInt().orElse(1000),
                earnidle.get("limits.max-prompt-chars").asInt().orElse(8192),
                earnidle.get("limits.max-tokens").asInt().orElse(256),
                earnidle.get("limits.max-body-bytes").asInt().orElse(65536),
                RateCard.from(earnidle.get("rates")),
                earnidle.get("rates.platform-fee-bps").asInt().orElse(1000),
                earnidle.get("ledger.verification-window-seconds").asLong().orElse(600L),
                earnidle.get("demo.customer-api-key").asString().orElse("demo-customer-key"),
                earnidle.get("demo.customer-funding-micro-usdc").asLong().orElse(100_000_000L));
        s.check();
        return s;
    }

    private void check() {
        require(maxTokens > 0 && maxPromptChars > 0 && maxBodyBytes > 0, "earnidle.limits.* must be > 0");
        require(platformFeeBps >= 0 && platformFeeBps <= 10000, "earnidle.rates.platform-fee-bps must be 0..10000");
        require(verificationWindowSeconds >= 0, "earnidle.ledger.verification-window-seconds must be >= 0");
        require(!demoCustomerApiKey.isBlank(), "earnidle.demo.customer-api-key must not be blank");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    public Path modelsDir() {
        return dataDir.resolve("models");
    }
}
