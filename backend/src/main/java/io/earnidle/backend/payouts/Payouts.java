package io.earnidle.backend.payouts;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Fields;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.wallets.EthSignatures;
import io.earnidle.backend.wallets.WithdrawalCounters;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

import static io.earnidle.backend.db.Database.ts;

/**
 * Withdrawals in the database: the signed request becomes a payout intent (ledger: account → payouts-in-flight,
 * in the same transaction as the {@code payouts} row, before anything is sent), and the intent ends confirmed
 * (payouts-in-flight → external chain-payouts) or failed (payouts-in-flight → back to the account).
 */
public record Payouts(Database db, Ledger ledger, PayoutSettings settings, long chainId) {
    /** A withdraw request as signed by the wallet (EIP-712 {@link WithdrawTypedData}). */
    public record Request(long amountMicroUsdc, String destination, long nonce, long deadline, String signature) {
    }

    private static final long MAX_AMOUNT = 1_000_000_000_000_000L; // 10^9 USDC

    public Payouts {
        db.inTransaction(tx -> {
            ledger.ensureAccount(tx, "system", "payouts-in-flight");
            ledger.ensureAccount(tx, "external", "chain-payouts");
            return null;
        });
    }

    /**
     * Parses and checks a withdraw request body ({@code amount_micro_usdc, destination, nonce, deadline,
     * signature}); 400 names the first bad field.
     */
    public Request parse(ObjectNode body, Instant now) {
        long amount = Fields.requiredLong(body, "amount_micro_usdc", 1, MAX_AMOUNT);
        if (amount < settings.minWithdrawalMicroUsdc()) {
            throw Problem.validation("amount_micro_usdc must be at least the minimum withdrawal of "
                    + settings.minWithdrawalMicroUsdc() + ", got " + amount);
        }
        String destination;
        try {
            destination = EthSignatures.normalizeAddress(
                    Fields.requiredString(body, "destination", 42), "destination");
        } catch (IllegalArgumentException e) {
            throw Problem.validation(e.getMessage());
        }
        if (destination.equals("0x0000000000000000000000000000000000000000")) {
            throw Problem.validation("destination must not be the zero address");
        }
        long nonce = Fields.requiredLong(body, "nonce", 0, 9_007_199_254_740_991L);
        long deadline = Fields.requiredLong(body, "deadline", 0, 253_402_300_799L);
        if (deadline <= now.getEpochSecond()) {
            throw Problem.validation("deadline " + deadline + " has passed (now " + now.getEpochSecond() + ")");
        }
        if (deadline > now.getEpochSecond() + settings.maxDeadlineSeconds()) {
            throw Problem.validation("deadline must be at most " + settings.maxDeadlineSeconds()
                    + " seconds ahead");
        }
        String signature = Fields.requiredString(body, "signature", 132);
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
        String id = Ids.newId("po_");
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

    /** The payout {@code id} of {@code accountId}, or 404 (also for an id no payout can have). */
    public DbRow owned(String accountId, String id) {
        String shown = id.length() > 64 ? id.substring(0, 64) : id;
        return (id.length() > 64 ? Optional.<DbRow>empty() : byId(id))
                .filter(r -> accountId.equals(Database.str(r, "account_id")))
                .orElseThrow(() -> Problem.notFound("no payout " + shown));
    }

    /** The account's latest {@code limit} payouts, newest first, as the API shows them. */
    public ArrayNode history(String accountId, int limit) {
        return history(db.execute(), accountId, limit);
    }

    /** {@link #history(String, int)} inside a transaction. */
    public static ArrayNode history(DbExecute exec, String accountId, int limit) {
        ArrayNode list = Json.array();
        for (DbRow r : Database.list(exec, "p-history", accountId, limit)) {
            list.add(json(r));
        }
        return list;
    }

    /** Micro-USDC the account asked to withdraw that is not yet confirmed or failed. */
    public static long inFlight(DbExecute exec, String accountId) {
        return Database.total(exec, "p-in-flight-sum", accountId);
    }

    /** The withdraw nonce the account's next request should use (one above the highest used, from 0). */
    public static long nextNonce(DbExecute exec, String accountId) {
        return Database.count(exec, "p-max-nonce", accountId) + 1;
    }

    /** {@link #inFlight} and {@link #nextNonce} for the wallet's counters (wallets.WalletService). */
    public static WithdrawalCounters withdrawalCounters() {
        return new WithdrawalCounters() {
            @Override
            public long inFlight(DbExecute exec, String accountId) {
                return Payouts.inFlight(exec, accountId);
            }

            @Override
            public long nextNonce(DbExecute exec, String accountId) {
                return Payouts.nextNonce(exec, accountId);
            }
        };
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
        ObjectNode o = Database.copy(Json.object(), r, "id", "status", "amount_micro_usdc", "destination");
        o.put("nonce", Database.lng(r, "request_nonce"));
        Database.copy(o, r, "deadline", "chain_id", "token_address", "tx_hash", "block_number", "failure_reason");
        o.put("created_at", Database.instant(r, "created_at").toString());
        o.put("updated_at", Database.instant(r, "updated_at").toString());
        return o;
    }
}
