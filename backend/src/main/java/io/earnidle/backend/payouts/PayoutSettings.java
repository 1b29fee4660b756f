package io.earnidle.backend.payouts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

import io.earnidle.backend.wallets.EthSignatures;
import io.helidon.config.Config;
import org.web3j.crypto.Credentials;

/**
 * The {@code earnidle.payouts:} configuration section. The treasury key is read from {@code treasury-key-file} or
 * the environment variable {@code EARNIDLE_TREASURY_KEY}; it is never logged and {@link #toString()} leaves it out.
 */
public final class PayoutSettings {
    public static final String KEY_ENV = "EARNIDLE_TREASURY_KEY";
    private static final Pattern KEY = Pattern.compile("(0x)?[0-9a-fA-F]{64}");

    private final String rpcUrl;
    private final String tokenAddress;
    private final String treasuryKeyFile;
    private final int confirmations;
    private final long minWithdrawalMicroUsdc;
    private final long maxDeadlineSeconds;
    private final long gasLimit;
    private final long pollIntervalMs;
    private final int batchSize;
    private final long bumpAfterSeconds;
    private final int gasBumpPercent;
    private final int maxGasBumps;
    private final int maxBroadcastRefusals;

    private PayoutSettings(Config c) {
        this.rpcUrl = c.get("rpc-url").asString().orElse("").trim();
        String token = c.get("token-address").asString().orElse("").trim();
        this.tokenAddress = token.isEmpty() ? "" : EthSignatures.normalizeAddress(token, "earnidle.payouts.token-address");
        this.treasuryKeyFile = c.get("treasury-key-file").asString().orElse("").trim();
        this.confirmations = c.get("confirmations").asInt().orElse(1);
        this.minWithdrawalMicroUsdc = c.get("min-withdrawal-micro-usdc").asLong().orElse(1_000_000L);
        this.maxDeadlineSeconds = c.get("max-deadline-seconds").asLong().orElse(86400L);
        this.gasLimit = c.get("gas-limit").asLong().orElse(120_000L);
        this.pollIntervalMs = c.get("poll-interval-ms").asLong().orElse(2000L);
        this.batchSize = c.get("batch-size").asInt().orElse(20);
        this.bumpAfterSeconds = c.get("bump-after-seconds").asLong().orElse(180L);
        this.gasBumpPercent = c.get("gas-bump-percent").asInt().orElse(25);
        this.maxGasBumps = c.get("max-gas-bumps").asInt().orElse(6);
        this.maxBroadcastRefusals = c.get("max-broadcast-refusals").asInt().orElse(5);
        if (confirmations < 1 || minWithdrawalMicroUsdc < 1 || maxDeadlineSeconds < 60 || gasLimit < 21000
                || pollIntervalMs < 10 || batchSize < 1) {
            throw new IllegalArgumentException("earnidle.payouts: confirmations >= 1, min-withdrawal >= 1, "
                    + "max-deadline-seconds >= 60, gas-limit >= 21000, poll-interval-ms >= 10, batch-size >= 1");
        }
        // Ethereum nodes replace a pending transaction only for at least 10% more gas price
        if (bumpAfterSeconds < 1 || gasBumpPercent < 10 || maxGasBumps < 0 || maxBroadcastRefusals < 1) {
            throw new IllegalArgumentException("earnidle.payouts: bump-after-seconds >= 1, gas-bump-percent >= 10, "
                    + "max-gas-bumps >= 0, max-broadcast-refusals >= 1");
        }
    }

    public static PayoutSettings from(Config payouts) {
        return new PayoutSettings(payouts);
    }

    /** True when a chain, a token and a treasury key are configured, so the sender can run. */
    public boolean senderConfigured() {
        return !rpcUrl.isEmpty() && !tokenAddress.isEmpty() && treasuryKeySource().isPresent();
    }

    private Optional<String> treasuryKeySource() {
        if (!treasuryKeyFile.isEmpty()) {
            return Optional.of("file");
        }
        String env = System.getenv(KEY_ENV);
        return env == null || env.isBlank() ? Optional.empty() : Optional.of("env");
    }

    /** Loads the treasury key (file first, else the environment). Error messages never contain the key. */
    public Credentials treasury() {
        String key;
        if (!treasuryKeyFile.isEmpty()) {
            try {
                key = Files.readString(Path.of(treasuryKeyFile), StandardCharsets.US_ASCII).trim();
            } catch (IOException e) {
                throw new IllegalStateException("cannot read earnidle.payouts.treasury-key-file " + treasuryKeyFile
                        + ": " + e.getClass().getSimpleName());
            }
        } else {
            key = Optional.ofNullable(System.getenv(KEY_ENV)).orElse("").trim();
        }
        if (!KEY.matcher(key).matches()) {
            throw new IllegalStateException("the treasury key must be 64 hex digits (optionally 0x-prefixed)");
        }
        return Credentials.create(key);
    }

    public String rpcUrl() { return rpcUrl; }
    public String tokenAddress() { return tokenAddress; }
    public int confirmations() { return confirmations; }
    public long minWithdrawalMicroUsdc() { return minWithdrawalMicroUsdc; }
    public long maxDeadlineSeconds() { return maxDeadlineSeconds; }
    public long gasLimit() { return gasLimit; }
    public long pollIntervalMs() { return pollIntervalMs; }
    public int batchSize() { return batchSize; }
    public long bumpAfterSeconds() { return bumpAfterSeconds; }
    public int gasBumpPercent() { return gasBumpPercent; }
    public int maxGasBumps() { return maxGasBumps; }
    public int maxBroadcastRefusals() { return maxBroadcastRefusals; }

    @Override
    public String toString() {
        return "PayoutSettings[rpcUrl=" + rpcUrl + ", token=" + tokenAddress + ", treasuryKey="
                + treasuryKeySource().orElse("none") + ", confirmations=" + confirmations + "]";
    }
}
