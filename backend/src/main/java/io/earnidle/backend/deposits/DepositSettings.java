package io.earnidle.backend.deposits;

import io.earnidle.backend.payouts.PayoutSettings;
import io.earnidle.backend.wallets.EthSignatures;
import io.helidon.config.Config;

/**
 * The {@code earnidle.deposits:} configuration section. The chain endpoint and token default to the payouts'
 * ({@code earnidle.payouts.rpc-url}, {@code token-address}), the treasury to the address of the payouts treasury key,
 * the chain id is {@code earnidle.wallets.chain-id}. The watcher runs when an endpoint, a token and a treasury are
 * known ({@link #watcherConfigured()}).
 *
 * @param rpcUrl           JSON-RPC endpoint ("" = none)
 * @param chainId          the chain the deposits are on
 * @param tokenAddress     the USDC contract, lowercase ("" = none); one token unit is one micro-USDC (6 decimals)
 * @param treasuryAddress  where customers send USDC, lowercase ("" = none)
 * @param confirmations    blocks (including the transfer's own) before a deposit is credited
 * @param startBlock       first block scanned on a new database; -1 = the chain's latest block at the first scan
 * @param maxBlocksPerPoll block range of one {@code eth_getLogs} request
 * @param pollIntervalMs   how often the watcher scans
 * @param autoStart        whether the watcher's timer starts with the server
 */
public record DepositSettings(String rpcUrl, long chainId, String tokenAddress, String treasuryAddress,
                              int confirmations, long startBlock, int maxBlocksPerPoll, long pollIntervalMs,
                              boolean autoStart) {

    /** @param earnidle the {@code earnidle} config node */
    public static DepositSettings from(Config earnidle) {
        Config d = earnidle.get("deposits");
        PayoutSettings payouts = PayoutSettings.from(earnidle.get("payouts"));
        String rpc = d.get("rpc-url").asString().orElse("").trim();
        String token = d.get("token-address").asString().orElse("").trim();
        String treasury = d.get("treasury-address").asString().orElse("").trim();
        if (treasury.isEmpty() && payouts.senderConfigured()) {
            treasury = payouts.treasury().getAddress();
        }
        DepositSettings s = new DepositSettings(
                rpc.isEmpty() ? payouts.rpcUrl() : rpc,
                earnidle.get("wallets.chain-id").asLong().orElse(1337L),
                token.isEmpty() ? payouts.tokenAddress()
                        : EthSignatures.normalizeAddress(token, "earnidle.deposits.token-address"),
                treasury.isEmpty() ? "" : EthSignatures.normalizeAddress(treasury, "earnidle.deposits.treasury-address"),
                d.get("confirmations").asInt().orElse(12),
                d.get("start-block").asLong().orElse(-1L),
                d.get("max-blocks-per-poll").asInt().orElse(2000),
                d.get("poll-interval-ms").asLong().orElse(5000L),
                d.get("auto-start").asBoolean().orElse(true));
        if (s.confirmations < 1 || s.startBlock < -1 || s.maxBlocksPerPoll < 1 || s.pollIntervalMs < 10) {
            throw new IllegalArgumentException("earnidle.deposits: confirmations >= 1, start-block >= -1, "
                    + "max-blocks-per-poll >= 1, poll-interval-ms >= 10");
        }
        return s;
    }

    /** True when an endpoint, a token and a treasury are known, so the watcher can run. */
    public boolean watcherConfigured() {
        return !rpcUrl.isEmpty() && !tokenAddress.isEmpty() && !treasuryAddress.isEmpty();
    }
}
