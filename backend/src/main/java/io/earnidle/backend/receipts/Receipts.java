package io.earnidle.backend.receipts;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.ledger.Ledger;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;
import io.helidon.dbclient.DbTransaction;
import io.helidon.config.Config;

import static io.earnidle.backend.db.Database.ts;

/**
 * Issues the signed receipts of docs/receipts.md, each in the transaction of the event it records: a node's
 * {@code result} (when it is accepted), the result's {@code verification} outcome and a {@code reversal} of its
 * credit. A receipt is never edited; a later one names the result receipt it is about ({@code refers_to}) and every
 * receipt names the SHA-256 of the previous receipt of the same node session ({@code prev}), so each session's
 * receipts form a chain. The session's row is locked while a receipt is appended, so the chain never forks.
 */
public final class Receipts {
    public static final int VERSION = 1;
    public static final String RESULT = "result";
    public static final String VERIFICATION = "verification";
    public static final String REVERSAL = "reversal";

    private final ReceiptKeys keys;
    private final Ledger ledger;

    public Receipts(ReceiptKeys keys, Ledger ledger) {
        this.keys = keys;
        this.ledger = ledger;
    }

    /**
     * The receipts of the backend on {@code db}, configured by {@code earnidle.receipts} ({@code key-file},
     * {@code rotation-overlap-seconds}); its signing key is loaded, or created on first start.
     */
    public static Receipts create(Config receipts, Path dataDir, Database db, Ledger ledger) {
        ReceiptKeys keys = keys(receipts, dataDir);
        keys.ensure(db, ledger.now());
        return new Receipts(keys, ledger);
    }

    /** The signing keys {@code earnidle.receipts} configures (nothing is created or loaded yet). */
    public static ReceiptKeys keys(Config receipts, Path dataDir) {
        String file = receipts.get("key-file").asString().orElse("");
        long overlap = receipts.get("rotation-overlap-seconds").asLong().orElse(60L);
        if (overlap < 0) {
            throw new IllegalArgumentException("earnidle.receipts.rotation-overlap-seconds must be >= 0");
        }
        return new ReceiptKeys(dataDir, file.isBlank() ? null : Path.of(file), Duration.ofSeconds(overlap));
    }

    public ReceiptKeys keys() {
        return keys;
    }

    /**
     * Locks the chain of {@code sessionId} (its {@code node_sessions} row) for the rest of the transaction. Callers
     * that also lock ledger accounts take this lock first, the order wallet linking takes them (session row, then
     * accounts), so the two never wait for each other in a cycle.
     */
    public void lockChain(DbExecute exec, String sessionId) {
        Database.get(exec, "rc-lock-session", sessionId).orElseThrow();
    }

    /**
     * The receipt of the result just stored for {@code jobId} (its {@code job_results} row, with its payout
     * transaction); {@code verification} is the job's verification after it ({@code skipped}: not sampled, else it
     * is pending). Returns the receipt's id.
     */
    public String result(DbTransaction tx, String jobId, String verification) {
        return result(tx, jobId, verification, newId());
    }

    /**
     * {@link #result(DbTransaction, String, String)} under the receipt id {@code id} (from {@link #newId}), for a
     * caller that stores the id with the result before the receipt is issued.
     */
    public String result(DbTransaction tx, String jobId, String verification, String id) {
        DbRow job = Database.get(tx, "job-by-id", jobId).orElseThrow();
        DbRow result = Database.get(tx, "result-by-job", jobId).orElseThrow();
        boolean skipped = "skipped".equals(verification);
        // a replica check or a canary is not announced before its verdict: both read as pending here
        return issue(tx, id, RESULT, job, result, skipped ? "skipped" : "pending", skipped ? "not-sampled" : null,
                null);
    }

    /** A new receipt id. */
    public static String newId() {
        return Ids.newId("rcpt_");
    }

    /**
     * The verification outcome of {@code job}'s current {@code result}: {@code method} is how it was decided
     * ({@code teacher-forced}, {@code canary}, {@code redundant}, {@code timing} or {@code forfeited}).
     */
    public String verification(DbTransaction tx, DbRow job, DbRow result, boolean passed, String method) {
        return issue(tx, newId(), VERIFICATION, job, result, passed ? "passed" : "failed", method, null);
    }

    /**
     * A reversal of {@code amount} µUSDC credited to the node for {@code result}; {@code cause} says why
     * ({@code verification-failed}, {@code forfeited}), {@code status} is the result's verification status.
     */
    public String reversal(DbTransaction tx, DbRow job, DbRow result, long amount, String cause, String status) {
        ObjectNode reversal = Json.object();
        reversal.put("node_micro_usdc", amount);
        reversal.put("cause", cause);
        return issue(tx, newId(), REVERSAL, job, result, status, null, reversal);
    }

    private String issue(DbTransaction tx, String id, String kind, DbRow job, DbRow result, String status, String method,
                         ObjectNode reversal) {
        Instant now = ledger.now();
        String sessionId = Database.str(result, "session_id");
        String jobId = Database.str(job, "id");
        DbRow session = Database.get(tx, "rc-lock-session", sessionId).orElseThrow();
        Optional<DbRow> last = Database.get(tx, "rc-chain-head", sessionId);
        ReceiptKeys.SigningKey key = keys.current(tx, now)
                .orElseThrow(() -> new IllegalStateException("no receipt signing key is valid at " + now));

        ObjectNode r = Json.object();
        r.put("v", VERSION);
        r.put("id", id);
        r.put("kind", kind);
        r.put("job_id", jobId);
        r.put("refers_to", RESULT.equals(kind) ? null : Database.get(tx, "rc-result-receipt", jobId, sessionId)
                .map(row -> Database.str(row, "id")).orElse(null));
        ObjectNode node = r.putObject("node");
        node.put("session_id", sessionId);
        node.put("wallet", Database.str(session, "wallet_address"));
        DbRow model = Database.get(tx, "rc-model", Database.str(job, "model_id")).orElseThrow();
        ObjectNode m = r.putObject("model");
        m.put("id", Database.str(model, "id"));
        m.put("gguf_sha256", Database.str(model, "sha256"));
        r.set("prompt", prompt(job));
        ObjectNode output = r.putObject("output");
        output.put("token_ids_sha256", tokenIdsSha256(Json.parse(Database.str(result, "token_ids_json"))));
        output.put("tokens", Database.lng(result, "token_count"));
        ObjectNode timing = r.putObject("timing");
        timing.put("engine", Database.str(result, "engine"));
        timing.put("prefill_ms", Database.dbl(result, "prefill_ms"));
        timing.put("decode_ms", Database.dbl(result, "decode_ms"));
        r.set("price", price(tx, result, sessionId));
        ObjectNode v = r.putObject("verification");
        v.put("status", status);
        v.put("method", method);
        r.set("reversal", reversal);
        r.put("issued_at", now.toString());
        r.put("kid", key.kid());
        r.put("prev", last.map(row -> Database.str(row, "sha256")).orElse(null));

        byte[] canonical = Jcs.bytes(r);
        String signature = ReceiptKeys.base64url(ReceiptKeys.sign(key, canonical));
        long seq = last.map(row -> Database.lng(row, "seq") + 1).orElse(1L);
        tx.namedInsert("rc-insert", id, sessionId, seq, jobId, kind, new String(canonical, StandardCharsets.UTF_8),
                Ids.sha256Hex(canonical), key.kid(), signature, ts(now));
        return id;
    }

    /** What the node was asked: the SHA-256 of its prompt token ids (JCS array), or of the text prompt's UTF-8. */
    private static ObjectNode prompt(DbRow job) {
        ObjectNode p = Json.object();
        String ids = Database.str(job, "prompt_ids_json");
        if (ids != null) {
            JsonNode array = Json.parse(ids);
            p.put("of", "token_ids");
            p.put("sha256", tokenIdsSha256(array));
            p.put("tokens", array.size());
        } else {
            p.put("of", "text");
            p.put("sha256", Ids.sha256Hex(Database.str(job, "prompt")));
            p.putNull("tokens");
        }
        return p;
    }

    /** SHA-256 (hex) of the JCS text of a token id array, e.g. of {@code [128000,791,4062]}. */
    public static String tokenIdsSha256(JsonNode ids) {
        return Ids.sha256Hex(Jcs.bytes(ids));
    }

    /** The price of the result's payout and its split, read from its ledger transaction. */
    private static ObjectNode price(DbExecute exec, DbRow result, String sessionId) {
        long node = 0;
        long publisher = 0;
        long platform = 0;
        long total = 0;
        String nodeAccount = Ledger.accountId("node_session", sessionId);
        for (DbRow e : Database.list(exec, "entries-of-transaction", Database.str(result, "payout_tx_id"))) {
            long amount = Database.lng(e, "amount_micro_usdc");
            String account = Database.str(e, "account_id");
            if (amount <= 0) {
                continue;
            }
            total += amount;
            if (account.equals(nodeAccount)) {
                node += amount;
            } else if (account.equals(Ledger.PLATFORM_ACCOUNT)) {
                platform += amount;
            } else if (account.startsWith("publisher:")) {
                publisher += amount;
            }
        }
        ObjectNode p = Json.object();
        p.put("total_micro_usdc", total);
        p.put("node_micro_usdc", node);
        p.put("publisher_micro_usdc", publisher);
        p.put("platform_micro_usdc", platform);
        return p;
    }

    /** The node's credit in the result's payout transaction (what a reversal takes back). */
    public static long nodeCredit(DbExecute exec, DbRow result) {
        return price(exec, result, Database.str(result, "session_id")).path("node_micro_usdc").asLong();
    }
}
