package io.earnidle.backend.workers;

import java.util.Optional;
import java.util.regex.Pattern;

import io.earnidle.backend.wallets.EthSignatures;

/**
 * Whose public card is asked for: a verified wallet (all the node sessions linked to it) or one node session.
 * Anything else names no worker. The wallet address is kept lowercase, as it is stored.
 *
 * @param wallet  the wallet address, or null for a session
 * @param session the session id, or null for a wallet
 */
public record WorkerId(String wallet, String session) {
    private static final Pattern SESSION = Pattern.compile("ns_[A-Za-z0-9_-]{1,61}");
    private static final Pattern WALLET = Pattern.compile("0x[0-9a-fA-F]{40}");

    /** The worker {@code raw} names, or empty when it is neither a wallet address nor a session id. */
    public static Optional<WorkerId> parse(String raw) {
        if (raw == null) {
            return Optional.empty();
        }
        if (SESSION.matcher(raw).matches()) {
            return Optional.of(new WorkerId(null, raw));
        }
        if (WALLET.matcher(raw).matches()) {
            try {
                return Optional.of(new WorkerId(EthSignatures.normalizeAddress(raw, "wallet"), null));
            } catch (IllegalArgumentException badChecksum) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    public boolean isWallet() {
        return wallet != null;
    }

    /** The id as shown: the wallet in its EIP-55 checksummed form, or the session id. */
    public String display() {
        return isWallet() ? EthSignatures.checksum(wallet) : session;
    }
}
