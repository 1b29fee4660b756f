package io.earnidle.backend.deposits;

import java.io.IOException;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;

import io.earnidle.backend.background.BackgroundLoop;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.payouts.Chain;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.Response;
import org.web3j.protocol.core.methods.request.EthFilter;
import org.web3j.protocol.core.methods.response.EthBlock;
import org.web3j.protocol.core.methods.response.EthLog;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.utils.Numeric;

import static io.earnidle.backend.db.Database.ts;

/**
 * Watches the chain for ERC-20 {@code Transfer} logs of the token to the treasury and hands them to
 * {@link Deposits#record} once their block has the configured confirmations. Only blocks that deep are ever scanned,
 * so a reorganisation shorter than the confirmation depth never reaches what was credited. The scan position (the
 * cursor) advances in the same database transaction as the deposits it recorded, so a restart resumes exactly where
 * the last committed scan ended, and the deposits table's unique (chain, token, transaction, log index) makes a
 * second record impossible even for two backends scanning at once. Before each range the watcher checks that the
 * last scanned block still has the hash it had: a different one means a reorganisation deeper than the depth, and the
 * watcher stops crediting and says so ({@link DeepReorg}) instead of guessing.
 */
public final class DepositWatcher implements AutoCloseable {
    /** keccak256("Transfer(address,address,uint256)"). */
    static final String TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
    private static final Logger LOG = Logger.getLogger(DepositWatcher.class.getName());

    private final DepositSettings settings;
    private final Database db;
    private final Deposits deposits;
    private final Chain chain;
    private volatile BackgroundLoop loop;

    /** A block the watcher scanned no longer has the hash it had: the chain reorganised deeper than the depth. */
    public static final class DeepReorg extends IOException {
        DeepReorg(long block, String was, String now) {
            super("block " + block + " had hash " + was + " when scanned and now has " + now + ": a chain "
                    + "reorganisation deeper than earnidle.deposits.confirmations; deposits are no longer credited "
                    + "until an operator checks the chain and the deposits table");
        }
    }

    public DepositWatcher(DepositSettings settings, Database db, Deposits deposits, Chain chain) {
        this.settings = settings;
        this.db = db;
        this.deposits = deposits;
        this.chain = chain;
    }

    /** Scans every newly confirmed block (in ranges of max-blocks-per-poll); returns the transfers recorded. */
    public synchronized int runOnce() throws IOException {
        long head = chain.blockNumber().longValueExact();
        long confirmedHead = head - (settings.confirmations() - 1);
        Cursor cursor = cursor(head);
        int recorded = 0;
        while (cursor.next() <= confirmedHead) {
            if (cursor.lastHash() != null) {
                String now = blockHash(cursor.next() - 1);
                if (!cursor.lastHash().equals(now)) {
                    throw new DeepReorg(cursor.next() - 1, cursor.lastHash(), now);
                }
            }
            long to = Math.min(confirmedHead, cursor.next() + settings.maxBlocksPerPoll() - 1);
            List<Deposits.Transfer> transfers = transfers(cursor.next(), to);
            String toHash = blockHash(to);
            Optional<Integer> n = commit(cursor.next(), to, toHash, transfers);
            if (n.isEmpty()) {
                return recorded; // another scanner moved the cursor: the next round starts from there
            }
            recorded += n.get();
            cursor = new Cursor(to + 1, toHash);
        }
        return recorded;
    }

    private record Cursor(long next, String lastHash) {
    }

    /** The stored cursor, created on the first scan at start-block (or the latest block). */
    private Cursor cursor(long head) {
        return db.inTransaction(tx -> {
            var row = Database.get(tx, "dep-cursor", settings.chainId(), settings.tokenAddress(),
                    settings.treasuryAddress());
            if (row.isPresent()) {
                return new Cursor(Database.lng(row.get(), "next_block"), Database.str(row.get(), "last_block_hash"));
            }
            long start = settings.startBlock() >= 0 ? settings.startBlock() : head;
            tx.namedInsert("dep-insert-cursor", settings.chainId(), settings.tokenAddress(),
                    settings.treasuryAddress(), start, null, ts(deposits.ledger().now()));
            LOG.info("deposits: watching " + settings.tokenAddress() + " transfers to " + settings.treasuryAddress()
                    + " from block " + start);
            return new Cursor(start, null);
        });
    }

    /** Records the range's transfers and moves the cursor past it, in one transaction; empty when it had moved. */
    private Optional<Integer> commit(long from, long to, String toHash, List<Deposits.Transfer> transfers) {
        return db.inTransaction(tx -> {
            var row = Database.get(tx, "dep-cursor", settings.chainId(), settings.tokenAddress(),
                    settings.treasuryAddress());
            if (row.isEmpty() || Database.lng(row.get(), "next_block") != from) {
                return Optional.<Integer>empty();
            }
            int n = 0;
            for (Deposits.Transfer t : transfers) {
                if (deposits.record(tx, t, deposits.ledger().now())) {
                    n++;
                }
            }
            tx.namedUpdate("dep-advance-cursor", to + 1, toHash, ts(deposits.ledger().now()), settings.chainId(),
                    settings.tokenAddress(), settings.treasuryAddress(), from);
            return Optional.of(n);
        });
    }

    private List<Deposits.Transfer> transfers(long from, long to) throws IOException {
        EthFilter filter = new EthFilter(DefaultBlockParameter.valueOf(BigInteger.valueOf(from)),
                DefaultBlockParameter.valueOf(BigInteger.valueOf(to)), settings.tokenAddress());
        filter.addSingleTopic(TRANSFER_TOPIC);
        filter.addNullTopic();
        filter.addSingleTopic(topicOf(settings.treasuryAddress()));
        EthLog response = check(chain.web3j().ethGetLogs(filter).send());
        List<Deposits.Transfer> out = new ArrayList<>();
        for (EthLog.LogResult<?> r : response.getLogs()) {
            Log log = (Log) r.get();
            if (log.isRemoved() || log.getTopics().size() != 3 || !TRANSFER_TOPIC.equalsIgnoreCase(
                    log.getTopics().get(0)) || !settings.tokenAddress().equalsIgnoreCase(log.getAddress())) {
                continue;
            }
            out.add(new Deposits.Transfer(settings.chainId(), settings.tokenAddress(),
                    log.getTransactionHash().toLowerCase(), log.getLogIndex().longValueExact(),
                    log.getBlockNumber().longValueExact(), log.getBlockHash().toLowerCase(),
                    addressOf(log.getTopics().get(1)), Numeric.toBigInt(log.getData())));
        }
        return out;
    }

    private String blockHash(long number) throws IOException {
        EthBlock.Block b = check(chain.web3j().ethGetBlockByNumber(
                DefaultBlockParameter.valueOf(BigInteger.valueOf(number)), false).send()).getBlock();
        if (b == null) {
            throw new IOException("the chain has no block " + number);
        }
        return b.getHash().toLowerCase();
    }

    /** An address as an indexed 32-byte topic. */
    static String topicOf(String address) {
        return "0x" + "0".repeat(24) + address.substring(2).toLowerCase();
    }

    static String addressOf(String topic) {
        return "0x" + topic.substring(topic.length() - 40).toLowerCase();
    }

    private static <R extends Response<?>> R check(R response) throws IOException {
        if (response.hasError()) {
            throw new IOException("JSON-RPC error " + response.getError().getCode() + ": "
                    + response.getError().getMessage());
        }
        return response;
    }

    /** Scans every poll interval on one thread until closed; a failed scan is logged and retried next time. */
    public synchronized void start() {
        start(() -> true);
    }

    /** {@link #start()}, each scan only while {@code leader} (cluster mode: docs/operations.md). */
    public synchronized void start(BooleanSupplier leader) {
        if (loop != null) {
            return;
        }
        loop = BackgroundLoop.every(Duration.ofMillis(settings.pollIntervalMs())).named("deposit-watcher")
                .firstAfter(Duration.ZERO).whileLeading(leader).start(() -> {
                    try {
                        runOnce();
                    } catch (DeepReorg e) {
                        LOG.severe("deposits: " + e.getMessage()); // an operator's call; the next scan retries
                    }
                });
    }

    @Override
    public void close() {
        BackgroundLoop l = loop;
        if (l != null) {
            l.close();
        }
    }
}
