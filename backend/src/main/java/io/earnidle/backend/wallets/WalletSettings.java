package io.earnidle.backend.wallets;

import io.helidon.config.Config;

/**
 * The {@code earnidle.wallets:} configuration section.
 *
 * @param chainId           chain id that SIWE messages and withdraw signatures must name
 * @param siweDomain        host[:port] a SIWE message must name: {@code siwe-domain}, else the host of
 *                          {@code earnidle.public-origin}; empty only in demo mode with neither set, where it is the
 *                          request's Host header (a request can name any Host, so production requires the origin)
 * @param nonceTtlSeconds   lifetime of a SIWE nonce (single use)
 * @param sessionTtlSeconds lifetime of a wallet bearer token
 * @param clockSkewSeconds  tolerated clock skew for Issued At / Not Before
 */
public record WalletSettings(long chainId, String siweDomain, long nonceTtlSeconds, long sessionTtlSeconds,
                             long clockSkewSeconds) {

    /**
     * From the {@code earnidle} node: {@code wallets.*}, with the SIWE domain taken from {@code public-origin} when
     * {@code wallets.siwe-domain} is empty. Outside demo mode ({@code earnidle.mode}) one of them is required.
     */
    public static WalletSettings forSite(Config earnidle) {
        WalletSettings s = from(earnidle.get("wallets"));
        if (!s.siweDomain.isEmpty()) {
            return s;
        }
        String origin = earnidle.get("public-origin").asString().orElse("").trim();
        if (!origin.isEmpty()) {
            String host = Wallets.authority(origin);
            if (host == null || !(origin.startsWith("https://") || origin.startsWith("http://"))) {
                throw new IllegalArgumentException("earnidle.public-origin must be an origin like "
                        + "https://earnidle.example, got '" + origin + "'");
            }
            return new WalletSettings(s.chainId, host.toLowerCase(java.util.Locale.ROOT), s.nonceTtlSeconds,
                    s.sessionTtlSeconds, s.clockSkewSeconds);
        }
        String mode = earnidle.get("mode").asString().orElse("demo").trim();
        if (!"demo".equals(mode)) {
            throw new IllegalArgumentException("earnidle.public-origin is required outside demo mode: SIWE messages "
                    + "must name the site's own domain, never the Host a request claims (mode " + mode + ")");
        }
        return s;
    }

    /** The {@code earnidle.wallets} section alone: an empty {@code siwe-domain} means the request's Host. */
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
