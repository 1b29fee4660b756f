package io.earnidle.backend.deposits;

import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.logging.Logger;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.payouts.Chain;
import io.earnidle.backend.wallets.WalletService;
import io.helidon.config.Config;

/**
 * Customer deposits wired together: settings from {@code earnidle.deposits}, the HTTP service and the chain watcher
 * (null when no chain, token or treasury is configured; its timer starts unless {@code auto-start} is false).
 */
public record DepositModule(Deposits deposits, DepositService service, Chain chain, DepositWatcher watcher)
        implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DepositModule.class.getName());

    /**
     * @param earnidle the {@code earnidle} config node
     * @param leader   whether this instance watches deposits now (cluster mode: docs/operations.md)
     */
    public static DepositModule create(Config earnidle, Database db, Ledger ledger, WalletService walletService,
                                       Function<String, Optional<String>> customerOfKey, int maxBodyBytes,
                                       BooleanSupplier leader) {
        DepositSettings settings = DepositSettings.from(earnidle);
        Deposits deposits = new Deposits(db, ledger);
        Chain chain = null;
        DepositWatcher watcher = null;
        if (settings.watcherConfigured()) {
            chain = new Chain(settings.rpcUrl(), settings.chainId());
            watcher = new DepositWatcher(settings, db, deposits, chain);
            if (settings.autoStart()) {
                watcher.start(leader);
            }
        } else {
            LOG.info("deposits: no chain, token or treasury configured; no deposits are watched");
        }
        return new DepositModule(deposits, new DepositService(deposits, settings, walletService, customerOfKey,
                maxBodyBytes), chain, watcher);
    }

    @Override
    public void close() {
        if (watcher != null) {
            watcher.close();
        }
        if (chain != null) {
            chain.close();
        }
    }
}
