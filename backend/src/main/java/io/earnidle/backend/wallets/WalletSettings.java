package io.earnidle.backend.wallets;

import io.helidon.config.Config;

/**
 * The {@code earnidle.wallets:} configuration section.
 *
 * @param chainId           chain id that SIWE messages and withdraw signatures must name
 * @param siweDomain        host[:port] a SIWE message must name; empty = the Host header of the request (the widget
 *                          and the API share the backend's origin)
 * @param nonceTtlSeconds   lifetime of a SIWE nonce (single use)
 * @param sessionTtlSeconds lifetime of a wallet bearer token
 * @param clockSkewSeconds  tolerated clock skew for Issued At / Not Before
 */
public record WalletSettings(long chainId, String siweDomain, long nonceTtlSeconds, long sessionTtlSeconds,
                             long clockSkewSeconds) {

    public static WalletSettings from(Config wallets) {
        WalletSettings s = new WalletSettings(
                wallets.get("chain-id").asLong().orElse(1337L),
                wallets.get("siwe-domain").asString().orElse("").trim(),
                wallets.get("nonce-ttl-seconds").asLong().orElse(300L),
                wallets.get("session-ttl-seconds").asLong().orElse(86400L),
                wallets.get("clock-skew-seconds").asLong().orElse(60L));
        if (s.chainId <= 0 || s.nonceTtlSeconds <= 0 || s.sessionTtlSeconds <= 0 || s.clockSkewSeconds < 0) {
            throw new IllegalArgumentException("earnidle.wallets: chain-id and the TTLs must be > 0, clock skew >= 0");
        }
        return s;
    }
}
