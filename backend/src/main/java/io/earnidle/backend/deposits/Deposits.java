package io.earnidle.backend.deposits;

import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.ledger.Ledger;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

import static io.earnidle.backend.db.Database.ts;

/**
 * Customer balances topped up from outside: wallets customers proved, deposits seen on chain and manual credits. Every
 * credit is one zero-sum ledger transaction of kind {@code deposit} from {@link Ledger#DEPOSITS_ACCOUNT} to
 * {@code customer:<id>}, referencing the deposit or manual credit it pays.
 */
public record Deposits(Database db, Ledger ledger) {
    /** A transfer to the treasury as the chain logged it (addresses lowercase, amount in token units). */
    public record Transfer(long chainId, String token, String txHash, long logIndex, long blockNumber,
                           String blockHash, String from, BigInteger amountUnits) {
    }

    /**
     * Links a proved wallet to a customer (idempotent for the same customer). Throws {@link WalletTaken} when another
     * customer proved it first.
     */
    public void linkWallet(String address, String customerId, Instant now) {
        db.inTransaction(tx -> {
            Optional<DbRow> existing = Database.get(tx, "dep-customer-wallet", address);
            if (existing.isEmpty()) {
                tx.namedInsert("dep-insert-customer-wallet", address, customerId, ts(now));
            } else if (!Database.str(existing.get(), "customer_id").equals(customerId)) {
                throw new WalletTaken(address);
            }
            return null;
        });
    }

    /** Another customer already proved the wallet. */
    public static final class WalletTaken extends RuntimeException {
        WalletTaken(String address) {
            super("wallet " + address + " was proved by another customer");
        }
    }

    /** The customer who proved {@code address}, if any. */
    public static Optional<String> customerOfWallet(DbExecute exec, String address) {
        return Database.get(exec, "dep-customer-wallet", address).map(r -> Database.str(r, "customer_id"));
    }

    /**
     * Records a transfer once (a second call for the same chain, token, transaction and log index does nothing) and,
     * when it came from a proved wallet and fits in micro-USDC, credits its customer. Call inside the transaction
     * that advances the watcher's cursor.
     *
     * @return true when this call recorded it
     */
    public boolean record(DbExecute tx, Transfer t, Instant now) {
        if (Database.get(tx, "dep-by-log", t.chainId(), t.token(), t.txHash(), t.logIndex()).isPresent()) {
            return false;
        }
        String id = Ids.newId("dep_");
        Optional<String> customer = customerOfWallet(tx, t.from());
        Long micro = t.amountUnits().signum() > 0 && t.amountUnits().bitLength() < 63
                ? t.amountUnits().longValueExact() : null;
        String ledgerTx = null;
        if (customer.isPresent() && micro != null) {
            ledgerTx = credit(tx, customer.get(), micro, id);
        }
        tx.namedInsert("dep-insert", id, t.chainId(), t.token(), t.txHash(), t.logIndex(), t.blockNumber(),
                t.blockHash(), t.from(), t.amountUnits().toString(), micro, customer.orElse(null),
                ledgerTx == null ? "unmatched" : "credited", ledgerTx, ts(now));
        return true;
    }

    /**
     * An audited manual top-up: {@code operator} credits {@code amount} to the customer for {@code reason}. Returns
     * the manual credit's id.
     */
    public String manualCredit(String customerId, long amount, String operator, String reason) {
        if (amount <= 0) {
            throw new IllegalArgumentException("the amount must be a positive number of micro-USDC");
        }
        if (operator == null || operator.isBlank() || operator.length() > 200) {
            throw new IllegalArgumentException("name the operator (at most 200 characters)");
        }
        if (reason == null || reason.isBlank() || reason.length() > 1000) {
            throw new IllegalArgumentException("give the reason (at most 1000 characters)");
        }
        return db.inTransaction(tx -> {
            if (Database.get(tx, "customer-by-id", customerId).isEmpty()) {
                throw new IllegalArgumentException("no customer " + customerId);
            }
            String id = Ids.newId("mc_");
            String ledgerTx = credit(tx, customerId, amount, id);
            tx.namedInsert("dep-insert-manual-credit", id, customerId, amount, operator.strip(), reason.strip(),
                    ledgerTx, ts(ledger.now()));
            return id;
        });
    }

    /** The customer's manual credits, oldest first. */
    public List<DbRow> manualCredits(String customerId) {
        return Database.list(db.execute(), "dep-manual-credits", customerId);
    }

    private String credit(DbExecute tx, String customerId, long amount, String reference) {
        ledger.ensureAccount(tx, "external", "deposits");
        String account = ledger.ensureAccount(tx, "customer", customerId);
        return ledger.post(tx, "deposit", null, reference, List.of(
                new Ledger.Entry(Ledger.DEPOSITS_ACCOUNT, -amount), new Ledger.Entry(account, amount)), false);
    }
}
