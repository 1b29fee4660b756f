package io.earnidle.backend.ledger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Ids;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

import static io.earnidle.backend.db.Database.ts;

/**
 * Double-entry ledger in micro-USDC. A transaction's entries sum to zero. Debits are always available at once;
 * credits written with a verification window are {@code pending} until {@code available_at} (a job's credits also
 * until the job's verification passed or was skipped) and are moved into the account's available balance by
 * {@link #settle}; a failed verification {@link #reverse}s them instead. Balance changes hold row locks on the accounts
 * ({@code SELECT ... FOR UPDATE}, taken in account-id order); posting a pending credit locks nothing (it inserts an
 * entry and changes no balance), so the accounts every job credits (platform, publisher) are never a point where
 * concurrent results wait for each other (on PostgreSQL the new entry's foreign key check takes a shared key lock on
 * the account row: it does not wait for a balance update, only for an explicit {@link #lock}). The ledger stays exact and zero-sum: every transaction's entries still sum
 * to zero when posted, and a balance row only ever changes under its lock.
 */
public final class Ledger {
    public static final String PLATFORM_ACCOUNT = accountId("platform", "platform");
    public static final String DEPOSITS_ACCOUNT = accountId("external", "deposits");
    /** Withdrawals recorded but not yet confirmed on chain (never negative). */
    public static final String PAYOUTS_IN_FLIGHT_ACCOUNT = accountId("system", "payouts-in-flight");
    /** USDC that left the system in confirmed on-chain payouts (external: its balance is the total paid out). */
    public static final String CHAIN_PAYOUTS_ACCOUNT = accountId("external", "chain-payouts");

    private final Clock clock;
    private final Duration verificationWindow;

    public Ledger(Clock clock, Duration verificationWindow) {
        this.clock = clock;
        this.verificationWindow = verificationWindow;
    }

    /** One leg of a transaction. */
    public record Entry(String accountId, long amountMicroUsdc) {
    }

    /** Split of a job's price. */
    public record Split(long platformFee, long visitor, long publisher) {
        public long total() {
            return platformFee + visitor + publisher;
        }
    }

    /**
     * The split of {@code price}: platform fee = floor(price * fee_bps / 10000); of the rest the visitor (node
     * session) gets floor(rest * (10000 - publisher_bps) / 10000) and the publisher the remainder.
     */
    public static Split split(long price, int platformFeeBps, int publisherShareBps) {
        if (price < 0 || platformFeeBps < 0 || platformFeeBps > 10000 || publisherShareBps < 0
                || publisherShareBps > 10000) {
            throw new IllegalArgumentException("bad split input");
        }
        long fee = Math.multiplyExact(price, (long) platformFeeBps) / 10000;
        long rest = price - fee;
        long visitor = Math.multiplyExact(rest, (long) (10000 - publisherShareBps)) / 10000;
        return new Split(fee, visitor, rest - visitor);
    }

    public static String accountId(String ownerType, String ownerId) {
        return ownerType + ":" + ownerId;
    }

    public Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    /** Creates the account when missing (idempotent). */
    public String ensureAccount(DbExecute exec, String ownerType, String ownerId) {
        String id = accountId(ownerType, ownerId);
        if (Database.get(exec, "ledger-account", id).isEmpty()) {
            exec.namedInsert("insert-ledger-account", id, ownerType, ownerId, ts(now()));
        }
        return id;
    }

    /**
     * Posts a transaction. Negative entries (debits) are available at once; positive entries (credits) are
     * pending for the verification window when {@code windowed}. Call inside a DB transaction.
     *
     * @return the transaction id
     */
    public String post(DbExecute exec, String kind, String jobId, List<Entry> entries, boolean windowed) {
        return post(exec, kind, jobId, null, entries, windowed);
    }

    /**
     * Posts a transaction that belongs to {@code reference} (a payout id, a node session id) rather than to a job.
     * Same rules as {@link #post(DbExecute, String, String, List, boolean)}.
     */
    public String post(DbExecute exec, String kind, String jobId, String reference, List<Entry> entries,
                       boolean windowed) {
        return post(exec, kind, jobId, reference, entries, windowed, false);
    }

    /**
     * Posts a job's payout: its credits are pending for the verification window and, whatever the window, until the
     * job's verification is done ({@link #settle} moves a job's credits only once its verification passed or was
     * skipped; {@link #reverse} takes them back when it failed). Debits are available at once, but their balances
     * change, and their rows are locked, only in {@link HeldPosting#applyDebits}, which the caller runs as the last
     * statement before its commit. A customer's account row is locked by every result for one of its jobs and every
     * job it submits; locked mid-transaction, it was held through the rest of the result's statements and made one
     * customer's results and submissions wait on each other. The entries are written here, so the transaction stays
     * zero-sum whatever runs between.
     */
    public HeldPosting postHeldDebitsLast(DbExecute exec, String kind, String jobId, List<Entry> entries) {
        List<Entry> debits = entries.stream().filter(e -> e.amountMicroUsdc() < 0).toList();
        String txId = post(exec, kind, jobId, null, entries, true, true, false);
        return new HeldPosting(txId, debits);
    }

    /** A posted job payout whose debits still have to be applied to their accounts' balances. */
    public final class HeldPosting {
        private final String transactionId;
        private final List<Entry> debits;
        private boolean applied;

        private HeldPosting(String transactionId, List<Entry> debits) {
            this.transactionId = transactionId;
            this.debits = debits;
        }

        public String transactionId() {
            return transactionId;
        }

        /**
         * Takes the debits off their accounts' balances, in account id order (the update locks each row, as
         * {@link Ledger#lock} does); once.
         */
        public void applyDebits(DbExecute exec) {
            if (applied) {
                throw new IllegalStateException("debits of " + transactionId + " already applied");
            }
            applied = true;
            List<Entry> byAccount = new ArrayList<>(debits);
            byAccount.sort(Comparator.comparing(Entry::accountId));
            for (Entry e : byAccount) {
                if (exec.namedUpdate("add-to-balance", e.amountMicroUsdc(), e.accountId()) != 1) {
                    throw new IllegalStateException("no ledger account " + e.accountId());
                }
            }
        }
    }

    private String post(DbExecute exec, String kind, String jobId, String reference, List<Entry> entries,
                        boolean windowed, boolean held) {
        return post(exec, kind, jobId, reference, entries, windowed, held, true);
    }

    private String post(DbExecute exec, String kind, String jobId, String reference, List<Entry> entries,
                        boolean windowed, boolean held, boolean applyNow) {
        long sum = 0;
        for (Entry e : entries) {
            sum = Math.addExact(sum, e.amountMicroUsdc());
        }
        if (sum != 0) {
            throw new IllegalArgumentException("ledger transaction does not balance: " + sum);
        }
        Instant now = now();
        Instant availableAt = windowed ? now.plus(verificationWindow) : now;
        boolean pending = held || availableAt.isAfter(now);
        // only the accounts whose balance changes now are locked: a pending credit is a new entry row and leaves its
        // account's row alone until settle() locks it, so a job's payout never waits on (or holds) the platform's,
        // the publisher's or the node's account row, only on its payer's
        if (applyNow) {
            lock(exec, entries.stream().filter(e -> e.amountMicroUsdc() != 0 && !(pending && e.amountMicroUsdc() > 0))
                    .map(Entry::accountId).toList());
        }
        String txId = Ids.newId("ltx_");
        if (reference != null) {
            exec.namedInsert("insert-ledger-transaction-ref", txId, jobId, kind, reference, ts(now));
        } else if (jobId == null) {
            exec.namedInsert("insert-ledger-transaction-nojob", txId, kind, ts(now));
        } else {
            exec.namedInsert("insert-ledger-transaction", txId, jobId, kind, ts(now));
        }
        for (Entry e : entries) {
            if (e.amountMicroUsdc() == 0) {
                continue;
            }
            boolean entryPending = pending && e.amountMicroUsdc() > 0;
            exec.namedInsert("insert-ledger-entry", Ids.newId("le_"), txId, e.accountId(), e.amountMicroUsdc(),
                    entryPending ? "pending" : "available", ts(entryPending ? availableAt : now), ts(now));
            if (!entryPending && applyNow) {
                exec.namedUpdate("add-to-balance", e.amountMicroUsdc(), e.accountId());
            }
        }
        return txId;
    }

    /** Moves the account's pending entries whose time has come into its available balance. */
    public void settle(DbExecute exec, String accountId) {
        Instant now = now();
        List<DbRow> due = Database.list(exec, "due-pending-entries", accountId, ts(now));
        if (due.isEmpty()) {
            return;
        }
        lock(exec, List.of(accountId));
        for (DbRow row : due) {
            String entryId = Database.str(row, "id");
            if (exec.namedUpdate("make-entry-available", entryId) == 1) {
                exec.namedUpdate("add-to-balance", Database.lng(row, "amount_micro_usdc"), accountId);
            }
        }
    }

    /**
     * Reverses transaction {@code txId} with a zero-sum transaction of {@code kind} for {@code jobId}: each of its
     * pending credits becomes {@code reversed} (it never counts in a balance) and is cancelled by a {@code reversed}
     * entry of the opposite amount; each available entry (the customer's debit) is cancelled by an available entry
     * of the opposite amount (a refund). Amounts are never edited. Throws when a credit was already available: a
     * held credit settles only after its job's verification passed, so a failed one never is.
     *
     * @return the reversal's transaction id
     */
    public String reverse(DbExecute exec, String kind, String jobId, String txId) {
        List<DbRow> entries = Database.list(exec, "entries-of-transaction", txId);
        lock(exec, entries.stream().map(r -> Database.str(r, "account_id")).toList());
        Instant now = now();
        String reversalId = Ids.newId("ltx_");
        exec.namedInsert("insert-ledger-transaction", reversalId, jobId, kind, ts(now));
        for (DbRow e : entries) {
            String account = Database.str(e, "account_id");
            long amount = Database.lng(e, "amount_micro_usdc");
            if ("pending".equals(Database.str(e, "state"))) {
                if (exec.namedUpdate("reverse-pending-entry", Database.str(e, "id")) != 1) {
                    throw new IllegalStateException("entry " + Database.str(e, "id") + " changed while reversing");
                }
                exec.namedInsert("insert-ledger-entry", Ids.newId("le_"), reversalId, account, -amount, "reversed",
                        ts(now), ts(now));
            } else if ("available".equals(Database.str(e, "state")) && amount < 0) {
                exec.namedInsert("insert-ledger-entry", Ids.newId("le_"), reversalId, account, -amount,
                        "available", ts(now), ts(now));
                exec.namedUpdate("add-to-balance", -amount, account);
            } else {
                throw new IllegalStateException("transaction " + txId + " cannot be reversed: entry "
                        + Database.str(e, "id") + " is " + Database.str(e, "state") + " (" + amount + ")");
            }
        }
        return reversalId;
    }

    /**
     * Reverses one pending credit (entry {@code entryId} of {@code amount} > 0 on {@code account}) with a zero-sum
     * transaction of {@code kind} for {@code jobId}: the credit becomes {@code reversed} and is cancelled by a
     * {@code reversed} entry of the opposite amount, and {@code refundTo} is credited the amount, available (the
     * account that paid for it). Amounts are never edited. Returns the transaction id, or null when the entry was no
     * longer pending.
     */
    public String reverseCredit(DbExecute exec, String kind, String jobId, String entryId, String account,
                                long amount, String refundTo) {
        if (amount <= 0) {
            throw new IllegalArgumentException("only a credit can be reversed: " + amount);
        }
        lock(exec, List.of(account, refundTo));
        if (exec.namedUpdate("reverse-pending-entry", entryId) != 1) {
            return null;
        }
        Instant now = now();
        String reversalId = Ids.newId("ltx_");
        exec.namedInsert("insert-ledger-transaction", reversalId, jobId, kind, ts(now));
        exec.namedInsert("insert-ledger-entry", Ids.newId("le_"), reversalId, account, -amount, "reversed", ts(now),
                ts(now));
        exec.namedInsert("insert-ledger-entry", Ids.newId("le_"), reversalId, refundTo, amount, "available",
                ts(now), ts(now));
        exec.namedUpdate("add-to-balance", amount, refundTo);
        return reversalId;
    }

    /** Moves {@code amount} (> 0, available) from one account to another in one transaction; returns its id. */
    public String transfer(DbExecute exec, String kind, String reference, String from, String to, long amount) {
        if (amount <= 0) {
            throw new IllegalArgumentException("transfer amount must be positive: " + amount);
        }
        return post(exec, kind, null, reference, List.of(new Entry(from, -amount), new Entry(to, amount)), false);
    }

    /** Available balance (after settling what is due). */
    public long available(DbExecute exec, String accountId) {
        settle(exec, accountId);
        return Database.get(exec, "ledger-account", accountId).map(r -> Database.lng(r, "balance_micro_usdc"))
                .orElse(0L);
    }

    public long pending(DbExecute exec, String accountId) {
        return Database.get(exec, "pending-sum", accountId).map(r -> Database.lng(r, "total")).orElse(0L);
    }

    /** An account's available and pending amounts. */
    public record Amounts(long available, long pending) {
    }

    /**
     * What {@link #available} and then {@link #pending} answer, read in one statement without settling: the due
     * pending entries count as available but stay pending, and no account row is locked or written. For a response
     * inside a transaction that must not lock the account (a result's: it locks its payer's account last).
     */
    public Amounts unsettledView(DbExecute exec, String accountId) {
        DbRow r = Database.get(exec, "ledger-unsettled-view", accountId, accountId, ts(now()), accountId)
                .orElseThrow();
        Object balance = Database.raw(r, "balance"); // null: no such account (yet)
        long due = Database.lng(r, "due");
        long settled = balance == null ? 0 : ((Number) balance).longValue();
        return new Amounts(settled + due, Database.lng(r, "pending") - due);
    }

    /** Row-locks the accounts, in id order so that concurrent transactions cannot deadlock. */
    public void lock(DbExecute exec, List<String> accountIds) {
        List<String> sorted = new ArrayList<>(accountIds.stream().distinct().toList());
        sorted.sort(Comparator.naturalOrder());
        for (String id : sorted) {
            if (exec.namedUpdate("lock-ledger-account", id) != 1) {
                throw new IllegalStateException("no ledger account " + id);
            }
        }
    }
}
