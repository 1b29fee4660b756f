package io.earnidle.backend.payouts;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.wallets.EthSignatures;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

import static io.earnidle.backend.db.Database.ts;

/**
 * Withdrawals in the database: the signed request becomes a payout intent (ledger: account → payouts-in-flight,
 * in the same transaction as the {@code payouts} row, before anything is sent), and the intent ends confirmed
 * (payouts-in-flight → external chain-payouts) or failed (payouts-in-flight → back to the account).
 */
public final class Payouts {
    /** A withdraw request as signed by the wallet (EIP-712 {@link WithdrawTypedData}). */
    public record Request(long amountMicroUsdc, String destination, long nonce, long deadline, String signature) {
    }

    private static final long MAX_AMOUNT = 1_000_000_000_000_000L; // 10^9 USDC

    private final Database db;
    private final Ledger ledger;
    private final PayoutSettings settings;
    private final long chainId;

    public Payouts(Database db, Ledger ledger, PayoutSettings settings, long chainId) {
        this.db = db;
        this.ledger = ledger;
        this.settings = settings;
        this.chainId = chainId;
        db.inTransaction(tx -> {
            ledger.ensureAccount(tx, "system", "payouts-in-flight");
            ledger.ensureAccount(tx, "external", "chain-payouts");
            return null;
        });
    }

    public PayoutSettings settings() {
        return settings;
    }

    public long chainId() {
        return chainId;
    }

    /**
     * Parses and checks a withdraw request body ({@code amount_micro_usdc, destination, nonce, deadline,
     * signature}); 400 names the first bad field.
     */
    public Request parse(ObjectNode body, Instant now) {
        long amount = io.earnidle.backend.http.Fields.requiredLong(body, "amount_micro_usdc", 1, MAX_AMOUNT);
        if (amount < settings.minWithdrawalMicroUsdc()) {
            throw Problem.validation("amount_micro_usdc must be at least the minimum withdrawal of "
                    + settings.minWithdrawalMicroUsdc() + ", got " + amount);
        }
        String destination;
        try {
            destination = EthSignatures.normalizeAddress(
                    io.earnidle.backend.http.Fields.requiredString(body, "destination", 42), "destination");
        } catch (IllegalArgumentException e) {
            throw Problem.validation(e.getMessage());
        }
        if (destination.equals("0x0000000000000000000000000000000000000000")) {
            throw Problem.validation("destination must not be the zero address");
        }
        long nonce = io.earnidle.backend.http.Fields.requiredLong(body, "nonce", 0, 9_007_199_254_740_991L);
        long deadline = io.earnidle.backend.http.Fields.requiredLong(body, "deadline", 0, 253_402_300_799L);
        if (deadline <= now.getEpochSecond()) {
            throw Problem.validation("deadline " + deadline + " has passed (now " + now.getEpochSecond() + ")");
        }
        if (deadline > now.getEpochSecond() + settings.maxDeadlineSeconds()) {
            throw Problem.validation("deadline must be at most " + settings.maxDeadlineSeconds()
                    + " seconds ahead");
        }
        String signature = io.earnidle.backend.http.Fields.requiredString(body, "signature", 132);
        return new Request(amount, destination, nonce, deadline, signature);
    }

    /** The signer of a request for {@code accountId} (400 for a malformed signature). */
    public String signer(String accountId, Request r) {
        String typed = Json.write(WithdrawTypedData.of(chainId, accountId, r.destination(), r.amountMicroUsdc(),
                r.nonce(), r.deadline()));
        try {
            return EthSignatures.recoverTypedDataAddress(typed, r.signature());
        } catch (IllegalArgumentException e) {
            throw Problem.validation("signature: " + e.getMessage());
        }
    }

    /**
     * Records a payout intent for {@code accountId}: verifies that {@code expectedSigner} signed the request, that
     * its nonce is unused and that the account holds the amount, then moves the amount to payouts-in-flight and
     * writes the payout row, in one transaction. {@code beforeDebit} runs first inside it (the wallet sweep; it must
     * lock the account and payouts-in-flight). Publishers' portal calls this with their proved payout address.
     *
     * @return the payout as JSON
     */
    public ObjectNode request(String accountId, String expectedSigner, Request r, Instant now,
                              Consumer<DbExecute> beforeDebit) {
        String signer = signer(accountId, r);
        if (!signer.equals(expectedSigner)) {
            throw Problem.unauthorized("withdraw request was signed by " + signer + ", not by this account's wallet "
                    + expectedSigner);
        }
        if (settings.tokenAddress().isEmpty()) {
            throw Problem.conflict("payouts are not configured on this server (no token contract)");
        }
        String id = Json.newId("po_");
        return db.inTransaction(tx -> {
            beforeDebit.accept(tx);
            ledger.lock(tx, List.of(accountId, Ledger.PAYOUTS_IN_FLIGHT_ACCOUNT));
            if (Database.get(tx, "p-by-account-nonce", accountId, r.nonce()).isPresent()) {
                throw Problem.conflict("withdraw nonce " + r.nonce() + " was already used (replayed request)");
            }
            long available = ledger.available(tx, accountId);
            if (available < r.amountMicroUsdc()) {
                throw Problem.insufficientFunds("available balance " + available + " is below the withdrawal of "
                        + r.amountMicroUsdc());
            }
            ledger.transfer(tx, "payout_intent", id, accountId, Ledger.PAYOUTS_IN_FLIGHT_ACCOUNT,
                    r.amountMicroUsdc());
            tx.namedInsert("p-insert", id, accountId, signer, r.destination(), r.amountMicroUsdc(), r.nonce(),
                    r.deadline(), r.signature(), chainId, settings.tokenAddress(), ts(now), ts(now));
            return json(Database.get(tx, "p-by-id", id).orElseThrow());
        });
    }

    public Optional<DbRow> byId(String id) {
        return Database.get(db.execute(), "p-by-id", id);
    }

    public List<ObjectNode> history(String accountId, int limit) {
        List<ObjectNode> out = new ArrayList<>();
        for (DbRow r : Database.list(db.execute(), "p-history", accountId, limit)) {
            out.add(json(r));
        }
        return out;
    }

    /** Ends a payout as confirmed (idempotent): payouts-in-flight → chain-payouts. */
    public boolean confirm(String id, long blockNumber) {
        return db.inTransaction(tx -> {
            DbRow p = Database.get(tx, "p-lock", id).orElseThrow();
            ledger.lock(tx, List.of(Ledger.PAYOUTS_IN_FLIGHT_ACCOUNT, Ledger.CHAIN_PAYOUTS_ACCOUNT));
            if (tx.namedUpdate("p-mark-confirmed", blockNumber, ts(ledger.now()), id) != 1) {
                return false;
            }
            ledger.transfer(tx, "payout_confirmed", id, Ledger.PAYOUTS_IN_FLIGHT_ACCOUNT,
                    Ledger.CHAIN_PAYOUTS_ACCOUNT, Database.lng(p, "amount_micro_usdc"));
            return true;
        });
    }

    /** Ends a payout as failed (idempotent) and returns its amount to the account it came from. */
    public boolean fail(String id, Long blockNumber, String reason) {
        return db.inTransaction(tx -> {
            DbRow p = Database.get(tx, "p-lock", id).orElseThrow();
            String account = Database.str(p, "account_id");
            ledger.lock(tx, List.of(Ledger.PAYOUTS_IN_FLIGHT_ACCOUNT, account));
            String why = reason.length() > 500 ? reason.substring(0, 500) : reason;
            if (tx.namedUpdate("p-mark-failed", blockNumber, why, ts(ledger.now()), id) != 1) {
                return false;
            }
            ledger.transfer(tx, "payout_failed", id, Ledger.PAYOUTS_IN_FLIGHT_ACCOUNT, account,
                    Database.lng(p, "amount_micro_usdc"));
            return true;
        });
    }

    /** A payout row as the API shows it. */
    public static ObjectNode json(DbRow r) {
        ObjectNode o = Json.object();
        o.put("id", Database.str(r, "id"));
        o.put("status", Database.str(r, "status"));
        o.put("amount_micro_usdc", Database.lng(r, "amount_micro_usdc"));
        o.put("destination", Database.str(r, "destination"));
        o.put("nonce", Database.lng(r, "request_nonce"));
        o.put("deadline", Database.lng(r, "deadline"));
        o.put("chain_id", Database.lng(r, "chain_id"));
        o.put("token_address", Database.str(r, "token_address"));
        o.put("tx_hash", Database.str(r, "tx_hash"));
        Long block = Database.lngOrNull(r, "block_number");
        if (block == null) {
            o.putNull("block_number");
        } else {
            o.put("block_number", block);
        }
        o.put("failure_reason", Database.str(r, "failure_reason"));
        o.put("created_at", Database.instant(r, "created_at").toString());
        o.put("updated_at", Database.instant(r, "updated_at").toString());
        return o;
    }
}
