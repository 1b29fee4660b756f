package io.earnidle.backend.payouts;

import java.io.IOException;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import io.earnidle.backend.db.Database;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

import static io.earnidle.backend.db.Database.ts;

/**
 * The transactions signed for each payout, all at the payout's one chain nonce: the first transfer, gas-bumped
 * replacements of it, and a cancellation (zero-value self-transfer) once the node has refused its broadcasts too
 * often. Any transfer among them may be the one mined (a replacement does not always win the race, a load-balanced
 * RPC may not know the newest), so whether a payout was paid is read from the receipts of all of them.
 */
final class PayoutTransactions {
    static final String TRANSFER = "transfer";
    static final String CANCEL = "cancel";
    private static final BigInteger CANCEL_GAS = BigInteger.valueOf(21_000);

    /** One signed transaction of a payout. */
    record Tx(String hash, String kind, BigInteger gasPrice, String raw) {
    }

    /** A transfer of the payout that the chain has mined, with its receipt. */
    record Landed(Tx tx, TransactionReceipt receipt) {
    }

    private final Database db;
    private final Chain chain;
    private final Credentials treasury;
    private final PayoutSettings settings;

    PayoutTransactions(Database db, Chain chain, Credentials treasury, PayoutSettings settings) {
        this.db = db;
        this.chain = chain;
        this.treasury = treasury;
        this.settings = settings;
    }

    /** Records a transaction signed for {@code payoutId} (inside the transaction that stores it on the payout). */
    static void record(DbExecute tx, String payoutId, String kind, BigInteger gasPrice, Chain.Signed s, Instant now) {
        tx.namedInsert("p-tx-insert", s.hash(), payoutId, kind, gasPrice.longValueExact(), s.rawHex(), ts(now));
    }

    /** Every transaction signed for the payout, oldest first (a row signed before they were recorded: its own). */
    List<Tx> of(DbRow payout) {
        List<Tx> all = new ArrayList<>();
        for (DbRow r : Database.list(db.execute(), "p-tx-list", Database.str(payout, "id"))) {
            all.add(new Tx(Database.str(r, "tx_hash"), Database.str(r, "kind"),
                    BigInteger.valueOf(Database.lng(r, "gas_price_wei")), Database.str(r, "raw_tx")));
        }
        String current = Database.str(payout, "tx_hash");
        if (current != null && all.stream().noneMatch(t -> t.hash().equals(current))) {
            Long price = Database.lngOrNull(payout, "gas_price_wei");
            all.add(0, new Tx(current, TRANSFER, price == null ? null : BigInteger.valueOf(price),
                    Database.str(payout, "raw_tx")));
        }
        return all;
    }

    static List<Tx> transfers(List<Tx> all) {
        return all.stream().filter(t -> TRANSFER.equals(t.kind())).toList();
    }

    static Optional<Tx> cancellation(List<Tx> all) {
        return all.stream().filter(t -> CANCEL.equals(t.kind())).reduce((a, b) -> b);
    }

    /** The first of the payout's transfers the chain has a receipt for. */
    Optional<Landed> landed(List<Tx> all) throws IOException {
        for (Tx t : transfers(all)) {
            Optional<TransactionReceipt> r = chain.receipt(t.hash());
            if (r.isPresent()) {
                return Optional.of(new Landed(t, r.get()));
            }
        }
        return Optional.empty();
    }

    /** Whether the node knows any of the payout's transfers (mined or pending). */
    boolean knowsAny(List<Tx> all) throws IOException {
        for (Tx t : transfers(all)) {
            if (chain.knows(t.hash())) {
                return true;
            }
        }
        return false;
    }

    /** Whether a node's refusal says the gas price is too low to enter (or replace in) its pool. */
    static boolean underpriced(String error) {
        String e = error.toLowerCase(Locale.ROOT);
        return e.contains("underpriced") || e.contains("fee too low") || e.contains("gas price too low")
                || e.contains("max fee per gas less than");
    }

    /** Whether the payout may still be re-signed at a higher gas price. */
    boolean canBump(List<Tx> all) {
        return transfers(all).size() <= settings.maxGasBumps();
    }

    /**
     * Re-signs the payout's transfer at its nonce with {@code gas-bump-percent} more gas price (at least the
     * network's price now) and makes it the payout's current transaction. Empty when another round replaced it
     * first.
     */
    Optional<Tx> bump(DbRow payout, List<Tx> all, Instant now) throws IOException {
        BigInteger price = nextPrice(all);
        Chain.Signed s = chain.sign(treasury, BigInteger.valueOf(Database.lng(payout, "chain_nonce")), price,
                BigInteger.valueOf(settings.gasLimit()), Database.str(payout, "token_address"), BigInteger.ZERO,
                Chain.transferData(Database.str(payout, "destination"),
                        BigInteger.valueOf(Database.lng(payout, "amount_micro_usdc"))));
        String id = Database.str(payout, "id");
        boolean replaced = db.inTransaction(tx -> {
            if (tx.namedUpdate("p-replace-tx", s.rawHex(), s.hash(), price.longValueExact(), ts(now), ts(now), id,
                    Database.str(payout, "tx_hash")) != 1) {
                return false;
            }
            record(tx, id, TRANSFER, price, s, now);
            return true;
        });
        return replaced ? Optional.of(new Tx(s.hash(), TRANSFER, price, s.rawHex())) : Optional.empty();
    }

    /**
     * Signs a zero-value transfer from the treasury to itself at the payout's nonce, priced to replace any pending
     * transfer of it: once it is mined the nonce is used, none of the transfers can land, and the payout can fail
     * without blocking the nonces after it. The payout keeps its transfer as {@code tx_hash}.
     */
    Tx cancel(DbRow payout, List<Tx> all, Instant now) throws IOException {
        BigInteger price = nextPrice(all);
        String self = treasury.getAddress();
        Chain.Signed s = chain.sign(treasury, BigInteger.valueOf(Database.lng(payout, "chain_nonce")), price,
                CANCEL_GAS, self, BigInteger.ZERO, "");
        db.inTransaction(tx -> {
            record(tx, Database.str(payout, "id"), CANCEL, price, s, now);
            return null;
        });
        return new Tx(s.hash(), CANCEL, price, s.rawHex());
    }

    private BigInteger nextPrice(List<Tx> all) throws IOException {
        BigInteger last = BigInteger.ZERO;
        for (Tx t : all) {
            if (t.gasPrice() != null && t.gasPrice().compareTo(last) > 0) {
                last = t.gasPrice();
            }
        }
        BigInteger bumped = last.multiply(BigInteger.valueOf(100L + settings.gasBumpPercent()))
                .divide(BigInteger.valueOf(100)).add(BigInteger.ONE);
        return bumped.max(chain.gasPrice());
    }
}
