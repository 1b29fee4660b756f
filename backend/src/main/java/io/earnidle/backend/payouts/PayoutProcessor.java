package io.earnidle.backend.payouts;

import java.io.IOException;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;

import io.earnidle.backend.background.BackgroundLoop;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.ledger.Ledger;
import io.helidon.dbclient.DbRow;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

import static io.earnidle.backend.db.Database.ts;

/**
 * Sends recorded payouts as ERC-20 transfers and reconciles them with the chain. Each round:
 * <ol>
 *   <li>{@link #signRequested}: for each {@code requested} payout, in one DB transaction, take the treasury's next
 *       chain nonce (row-locked counter, never below the chain's pending count), sign the transfer and store the raw
 *       transaction and its hash ({@code signed}). Nothing has been broadcast yet; a crash here loses nothing.</li>
 *   <li>{@link #broadcastSigned}: for each {@code signed} payout, if one of its transfers has a receipt or the chain
 *       knows one it is {@code sent}; if the treasury's mined nonce has moved past it and none of its transfers has
 *       a receipt, it can never be mined, so it {@code failed} (funds returned); otherwise the stored raw
 *       transaction is broadcast. A refusal for its gas price re-signs it higher; {@code max-broadcast-refusals}
 *       refusals in a row cancel its nonce (a zero-value self-transfer), which then fails it without leaving a
 *       nonce gap that would block every later payout.</li>
 *   <li>{@link #checkSent}: for each {@code sent} payout, when the receipt of one of its transfers has
 *       {@code confirmations} blocks it is {@code confirmed} (status 1) or {@code failed} (reverted; funds
 *       returned). One not mined {@code bump-after-seconds} after signing is re-signed at the same nonce with more
 *       gas ({@link PayoutTransactions}); a transaction the node forgot is re-broadcast.</li>
 * </ol>
 * Rounds run on one thread; methods are synchronized. Restarting after a crash simply runs the next round.
 */
public final class PayoutProcessor implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PayoutProcessor.class.getName());

    private final Database db;
    private final Ledger ledger;
    private final Payouts payouts;
    private final PayoutSettings settings;
    private final Chain chain;
    private final Credentials treasury;
    private final String from;
    private final PayoutTransactions transactions;
    private volatile BackgroundLoop loop;

    public PayoutProcessor(Database db, Ledger ledger, Payouts payouts, Chain chain, Credentials treasury) {
        this.db = db;
        this.ledger = ledger;
        this.payouts = payouts;
        this.settings = payouts.settings();
        this.chain = chain;
        this.treasury = treasury;
        this.from = treasury.getAddress().toLowerCase();
        this.transactions = new PayoutTransactions(db, chain, treasury, settings);
    }

    /** The treasury address payouts are sent from. */
    public String treasuryAddress() {
        return from;
    }

    /** Runs {@link #runOnce} every {@code poll-interval-ms} on a daemon thread. */
    public synchronized void start() {
        start(() -> true);
    }

    /** {@link #start()}, each round only while {@code leader} (cluster mode: docs/operations.md). */
    public synchronized void start(BooleanSupplier leader) {
        if (loop != null) {
            return;
        }
        // a round in flight finishes on close, so a signed or sent payout is recorded before the process ends
        loop = BackgroundLoop.every(Duration.ofMillis(settings.pollIntervalMs())).named("payout-sender")
                .firstAfter(Duration.ZERO).whileLeading(leader)
                .stopping(BackgroundLoop.Stop.FINISH_ROUND, Duration.ofSeconds(30))
                .start(this::runOnce);
    }

    /** One full round: sign, broadcast, check confirmations. */
    public synchronized void runOnce() throws IOException {
        signRequested();
        broadcastSigned();
        checkSent();
    }

    private List<String> open(String status) {
        List<String> ids = new ArrayList<>();
        for (DbRow r : Database.list(db.execute(), "p-open", status, payouts.chainId(), settings.tokenAddress(),
                settings.batchSize())) {
            ids.add(Database.str(r, "id"));
        }
        return ids;
    }

    /** Step 1: fixes nonce and raw transaction of each requested payout. Returns the ids signed. */
    public synchronized List<String> signRequested() throws IOException {
        List<String> ids = open("requested");
        if (ids.isEmpty()) {
            return ids;
        }
        BigInteger gasPrice = chain.gasPrice();
        List<String> signed = new ArrayList<>();
        for (String id : ids) {
            long chainPending = chain.transactionCount(from, true).longValueExact();
            boolean done = db.inTransaction(tx -> {
                DbRow p = Database.get(tx, "p-lock", id).orElseThrow();
                if (!"requested".equals(Database.str(p, "status"))) {
                    return false;
                }
                Optional<DbRow> counter = Database.get(tx, "p-chain-nonce-lock", payouts.chainId(), from);
                long next;
                if (counter.isEmpty()) {
                    next = chainPending;
                    tx.namedInsert("p-chain-nonce-insert", payouts.chainId(), from, next + 1);
                } else {
                    next = Math.max(Database.lng(counter.get(), "next_nonce"), chainPending);
                    tx.namedUpdate("p-chain-nonce-update", next + 1, payouts.chainId(), from);
                }
                Chain.Signed s = chain.sign(treasury, BigInteger.valueOf(next), gasPrice,
                        BigInteger.valueOf(settings.gasLimit()), Database.str(p, "token_address"), BigInteger.ZERO,
                        Chain.transferData(Database.str(p, "destination"),
                                BigInteger.valueOf(Database.lng(p, "amount_micro_usdc"))));
                Instant now = ledger.now();
                if (tx.namedUpdate("p-mark-signed", from, next, s.rawHex(), s.hash(), gasPrice.longValueExact(),
                        ts(now), ts(now), id) != 1) {
                    return false;
                }
                PayoutTransactions.record(tx, id, PayoutTransactions.TRANSFER, gasPrice, s, now);
                return true;
            });
            if (done) {
                signed.add(id);
            }
        }
        return signed;
    }

    /**
     * Step 2: broadcasts signed payouts the chain does not know yet. A payout whose nonce the chain has used is
     * {@code sent} when one of its transfers has a receipt (checkSent then confirms or fails it by that receipt)
     * and {@code failed} only when none has. A refusal for too low a gas price re-signs at a higher one; after
     * {@code max-broadcast-refusals} refusals in a row the nonce is cancelled, so the payout can fail without
     * blocking the payouts after it.
     */
    public synchronized void broadcastSigned() throws IOException {
        for (String id : open("signed")) {
            DbRow p = payouts.byId(id).orElseThrow();
            List<PayoutTransactions.Tx> all = transactions.of(p);
            Optional<PayoutTransactions.Landed> landed = transactions.landed(all);
            if (landed.isPresent()) {
                markSent(id, landed.get().tx());
                continue;
            }
            if (transactions.knowsAny(all)) {
                markSent(id, null);
                continue;
            }
            if (nonceUsedByAnother(p, all)) {
                continue;
            }
            Optional<PayoutTransactions.Tx> cancel = PayoutTransactions.cancellation(all);
            if (cancel.isPresent()) {
                chain.sendRaw(cancel.get().raw());
                continue;
            }
            Optional<String> error = chain.sendRaw(Database.str(p, "raw_tx"));
            if (error.isEmpty() || chain.knows(Database.str(p, "tx_hash"))) {
                markSent(id, null);
                continue;
            }
            refused(p, all, error.get());
        }
    }

    /** Fails the payout when the chain has mined its nonce and none of its transfers (checked just before). */
    private boolean nonceUsedByAnother(DbRow p, List<PayoutTransactions.Tx> all) throws IOException {
        long nonce = Database.lng(p, "chain_nonce");
        if (chain.transactionCount(from, false).longValueExact() <= nonce) {
            return false;
        }
        // the receipts again: a transfer mined between the first look and the nonce count is not refunded
        Optional<PayoutTransactions.Landed> landed = transactions.landed(all);
        if (landed.isPresent()) {
            markSent(Database.str(p, "id"), landed.get().tx());
            return true;
        }
        boolean cancelled = PayoutTransactions.cancellation(all).isPresent();
        payouts.fail(Database.str(p, "id"), null, "chain nonce " + nonce + " was used by "
                + (cancelled ? "its cancellation after refused broadcasts" : "another transaction")
                + " and none of this payout's " + PayoutTransactions.transfers(all).size()
                + " transfer(s) was mined; nothing was sent");
        return true;
    }

    private void refused(DbRow p, List<PayoutTransactions.Tx> all, String error) throws IOException {
        String id = Database.str(p, "id");
        db.execute().namedUpdate("p-refused", ts(ledger.now()), id);
        int refusals = (int) Database.lng(p, "broadcast_refusals") + 1;
        if (PayoutTransactions.underpriced(error) && transactions.canBump(all)) {
            LOG.warning("payout " + id + " broadcast refused for its gas price; re-signing higher: " + error);
            transactions.bump(p, all, ledger.now()).ifPresent(t -> broadcastQuietly(t.raw()));
        } else if (refusals >= settings.maxBroadcastRefusals()) {
            LOG.warning("payout " + id + " broadcast refused " + refusals + " times; cancelling its nonce: " + error);
            broadcastQuietly(transactions.cancel(p, all, ledger.now()).raw());
        } else {
            LOG.warning("payout " + id + " broadcast refused (" + refusals + " of "
                    + settings.maxBroadcastRefusals() + "; will retry): " + error);
        }
    }

    private void broadcastQuietly(String raw) {
        try {
            chain.sendRaw(raw).ifPresent(e -> LOG.warning("re-signed payout transaction refused (next round "
                    + "retries): " + e));
        } catch (IOException e) {
            LOG.warning("re-signed payout transaction not sent (next round retries): " + e.getMessage());
        }
    }

    /** Broadcasts without recording it: what a crash right after the broadcast leaves behind (tests). */
    public synchronized Optional<String> broadcastOnly(String id) throws IOException {
        return chain.sendRaw(Database.str(payouts.byId(id).orElseThrow(), "raw_tx"));
    }

    /** Marks the payout sent; {@code landed} (when known) becomes its {@code tx_hash}. */
    private void markSent(String id, PayoutTransactions.Tx landed) {
        if (landed != null) {
            db.execute().namedUpdate("p-landed-tx", landed.raw(), landed.hash(), ts(ledger.now()), id);
        }
        db.execute().namedUpdate("p-mark-sent", ts(ledger.now()), id);
    }

    /**
     * Step 3: confirms or fails sent payouts whose mined transfer has enough confirmations. One not mined is
     * re-broadcast when the node forgot it, and re-signed with more gas once {@code bump-after-seconds} have passed
     * since it was signed; one whose nonce was used by another transaction fails.
     */
    public synchronized void checkSent() throws IOException {
        List<String> sent = open("sent");
        if (sent.isEmpty()) {
            return;
        }
        BigInteger head = chain.blockNumber();
        for (String id : sent) {
            DbRow p = payouts.byId(id).orElseThrow();
            List<PayoutTransactions.Tx> all = transactions.of(p);
            Optional<PayoutTransactions.Landed> landed = transactions.landed(all);
            if (landed.isEmpty()) {
                if (!nonceUsedByAnother(p, all)) {
                    unmined(p, all);
                }
                continue;
            }
            TransactionReceipt receipt = landed.get().receipt();
            BigInteger block = receipt.getBlockNumber();
            if (head.subtract(block).add(BigInteger.ONE).compareTo(BigInteger.valueOf(settings.confirmations())) < 0) {
                continue;
            }
            String hash = landed.get().tx().hash();
            if (!hash.equals(Database.str(p, "tx_hash"))) {
                db.execute().namedUpdate("p-landed-tx", landed.get().tx().raw(), hash, ts(ledger.now()), id);
            }
            if (receipt.isStatusOK()) {
                payouts.confirm(id, block.longValueExact());
            } else {
                payouts.fail(id, block.longValueExact(), "the token transfer reverted on chain (tx " + hash + ")");
            }
        }
    }

    private void unmined(DbRow p, List<PayoutTransactions.Tx> all) throws IOException {
        Instant signedAt = Database.instant(p, "signed_at");
        boolean stuck = signedAt == null
                || !ledger.now().isBefore(signedAt.plusSeconds(settings.bumpAfterSeconds()));
        if (stuck && transactions.canBump(all)) {
            Optional<PayoutTransactions.Tx> replacement = transactions.bump(p, all, ledger.now());
            if (replacement.isPresent()) {
                LOG.info("payout " + Database.str(p, "id") + " not mined " + settings.bumpAfterSeconds()
                        + " s after signing; replaced at gas price " + replacement.get().gasPrice());
                broadcastQuietly(replacement.get().raw());
                return;
            }
        }
        if (!chain.knows(Database.str(p, "tx_hash"))) {
            // dropped from the mempool: the same bytes again (same nonce, so only one of them can land)
            chain.sendRaw(Database.str(p, "raw_tx"));
        }
    }

    @Override
    public void close() {
        BackgroundLoop l = loop;
        loop = null;
        if (l != null) {
            l.close();
        }
    }
}
