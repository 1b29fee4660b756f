package io.earnidle.backend.payouts;

import java.util.function.BooleanSupplier;
import java.util.logging.Logger;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.wallets.WalletService;
import io.earnidle.backend.wallets.WalletSettings;
import io.earnidle.backend.wallets.Wallets;
import io.helidon.config.Config;

/**
 * Wallets and payouts wired together: settings from {@code earnidle.wallets} / {@code earnidle.payouts}, the two
 * HTTP services, and the payout sender (started when a chain, token and treasury key are configured and
 * {@code earnidle.payouts.auto-start} is true). The chain and the sender are null when no sender is configured.
 */
public record PayoutModule(Payouts payouts, WalletService walletService, PayoutService payoutService, Chain chain,
                           PayoutProcessor processor) implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PayoutModule.class.getName());

    /**
     * @param earnidle the {@code earnidle} config node
     * @param leader   whether this instance sends payouts now (cluster mode: docs/operations.md)
     */
    public static PayoutModule create(Config earnidle, Database db, Ledger ledger, int maxBodyBytes,
                                      BooleanSupplier leader) {
        WalletSettings ws = WalletSettings.forSite(earnidle);
        PayoutSettings ps = PayoutSettings.from(earnidle.get("payouts"));
        Wallets wallets = new Wallets(db, ledger, ws);
        Payouts payouts = new Payouts(db, ledger, ps, ws.chainId());
        Chain chain = null;
        PayoutProcessor processor = null;
        if (ps.senderConfigured()) {
            chain = new Chain(ps.rpcUrl(), ws.chainId());
            processor = new PayoutProcessor(db, ledger, payouts, chain, ps.treasury());
            LOG.info("payouts: sending from " + processor.treasuryAddress() + " with " + ps);
            if (earnidle.get("payouts.auto-start").asBoolean().orElse(true)) {
                processor.start(leader);
            }
        } else {
            LOG.info("payouts: no sender configured (rpc-url, token-address, treasury key); withdrawals are queued");
        }
        return new PayoutModule(payouts,
                new WalletService(wallets, db, ledger, maxBodyBytes, ps.minWithdrawalMicroUsdc(),
                        Payouts.withdrawalCounters()),
                new PayoutService(payouts, wallets, ledger, maxBodyBytes), chain, processor);
    }

    @Override
    public void close() {
        if (processor != null) {
            processor.close();
        }
        if (chain != null) {
            chain.close();
        }
    }
}
