package io.earnidle.backend.payouts;

import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

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
 *   <li>{@link #broadcastSigned}: for each {@code signed} payout, if the chain already knows its hash it is
 *       {@code sent}; if the treasury's mined nonce has moved past it without it, it can never be mined, so it
 *       {@code failed} (funds returned); otherwise the stored raw transaction is broadcast. Re-broadcasting the
 *       same bytes can never pay twice: one nonce, one transaction.</li>
 *   <li>{@link #checkSent}: for each {@code sent} payout, when its receipt has {@code confirmations} blocks it is
 *       {@code confirmed} (status 1) or {@code failed} (reverted; funds returned). A transaction the node forgot is
 *       re-broadcast.</li>
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
    private volatile ScheduledExecutorService timer;

    public PayoutProcessor(Database db, Ledger ledger, Payouts payouts, Chain chain, Credentials treasury) {
        this.db = db;
        this.ledger = ledger;
        this.payouts = payouts;
        this.settings = payouts.settings();
        this.chain = chain;
        this.treasury = treasury;
        this.from = treasury.getAddress().toLowerCase();
    }

    /** The treasury address payouts are sent from. */
    public String treasuryAddress() {
        return from;
    }

    /** Runs {@link #runOnce} every {@code poll-interval-ms} on a daemon thread. */
    public synchronized void start() {
        if (timer != null) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "payout-sender");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            try {
                runOnce();
            } catch (Exception e) {
                LOG.log(Level.WARNING, "payout round failed; retrying next round: " + e.getMessage());
            }
        }, 0, settings.pollIntervalMs(), TimeUnit.MILLISECONDS);
    }

    /** One full round: sign, broadcast, check confirmations. */
    public synchronized void runOnce() throws IOException {
        signRequested();
        broadcastSigned();
        checkSent();
    }

    private List<String> open(String status) {
        List<String> ids = new ArrayList<>();
        for (DbRow r : Database.list(db.execute(), "p-open", payouts.chainId(), settings.tokenAddress(),
                settings.batchSize() * 4)) {
            String id = Database.str(r, "id");
            if (status.equals(payouts.byId(id).map(p -> Database.str(p, "status")).orElse(""))) {
                ids.add(id);
            }
        }
        return ids.size() > settings.batchSize() ? ids.subList(0, settings.batchSize()) : ids;
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
                return tx.namedUpdate("p-mark-signed", from, next, s.rawHex(), s.hash(), ts(ledger.now()), id) == 1;
            });
            if (done) {
                signed.add(id);
            }
        }
        return signed;
    }

    /** Step 2: broadcasts signed payouts the chain does not know yet (or fails those it can never mine). */
    public synchronized void broadcastSigned() throws IOException {
        for (String id : open("signed")) {
            DbRow p = payouts.byId(id).orElseThrow();
            String hash = Database.str(p, "tx_hash");
            if (chain.knows(hash)) {
                markSent(id);
                continue;
            }
            long mined = chain.transactionCount(from, false).longValueExact();
            if (mined > Database.lng(p, "chain_nonce")) {
                payouts.fail(id, null, "chain nonce " + Database.lng(p, "chain_nonce")
                        + " was used by another transaction; this payout was never sent");
                continue;
            }
            Optional<String> error = chain.sendRaw(Database.str(p, "raw_tx"));
            if (error.isEmpty() || chain.knows(hash)) {
                markSent(id);
            } else {
                LOG.warning("payout " + id + " broadcast refused (will retry): " + error.get());
            }
        }
    }

    /** Broadcasts without recording it: what a crash right after the broadcast leaves behind (tests). */
    public synchronized Optional<String> broadcastOnly(String id) throws IOException {
        return chain.sendRaw(Database.str(payouts.byId(id).orElseThrow(), "raw_tx"));
    }

    private void markSent(String id) {
        db.execute().namedUpdate("p-mark-sent", ts(ledger.now()), id);
    }

    /** Step 3: confirms or fails sent payouts whose receipts have enough confirmations. */
    public synchronized void checkSent() throws IOException {
        List<String> sent = open("sent");
        if (sent.isEmpty()) {
            return;
        }
        BigInteger head = chain.blockNumber();
        for (String id : sent) {
            DbRow p = payouts.byId(id).orElseThrow();
            String hash = Database.str(p, "tx_hash");
            Optional<TransactionReceipt> receipt = chain.receipt(hash);
            if (receipt.isEmpty()) {
                if (!chain.knows(hash)) {
                    // dropped from the mempool: the same bytes again (same nonce, so it can only land once)
                    chain.sendRaw(Database.str(p, "raw_tx"));
                }
                continue;
            }
            BigInteger block = receipt.get().getBlockNumber();
            if (head.subtract(block).add(BigInteger.ONE).compareTo(BigInteger.valueOf(settings.confirmations())) < 0) {
                continue;
            }
            if (receipt.get().isStatusOK()) {
                payouts.confirm(id, block.longValueExact());
            } else {
                payouts.fail(id, block.longValueExact(), "the token transfer reverted on chain (tx " + hash + ")");
            }
        }
    }

    @Override
    public void close() {
        ScheduledExecutorService t = timer;
        timer = null;
        if (t != null) {
            t.shutdown();
            try {
                if (!t.awaitTermination(30, TimeUnit.SECONDS)) {
                    t.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
