package io.earnidle.backend.receipts;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
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
     * What a receipt says about a result: its job's prompt and model, and the result's session, tokens, timing and
     * price (the split of its payout).
     */
    public record Subject(String jobId, String modelId, String modelSha256, String promptIdsJson, String prompt,
                          String sessionId, String tokenIdsJson, long tokenCount, String engine, double prefillMs,
                          double decodeMs, ObjectNode price) {
        /** The subject of a stored result ({@code job_results} row, with its payout transaction) of {@code job}. */
        static Subject of(DbExecute exec, DbRow job, DbRow result) {
            String sessionId = Database.str(result, "session_id");
            DbRow model = Database.get(exec, "rc-model", Database.str(job, "model_id")).orElseThrow();
            return new Subject(Database.str(job, "id"), Database.str(model, "id"), Database.str(model, "sha256"),
                    Database.str(job, "prompt_ids_json"), Database.str(job, "prompt"), sessionId,
                    Database.str(result, "token_ids_json"), Database.lng(result, "token_count"),
                    Database.str(result, "engine"), Database.dbl(result, "prefill_ms"),
                    Database.dbl(result, "decode_ms"), Receipts.price(exec, result, sessionId));
        }
    }

    /**
     * The receipt, under the id {@code id} (from {@link #newId}), of the result being accepted: {@code subject} holds
     * what its {@code job_results} row and payout transaction will hold, so the receipt is issued (and the session's
     * chain head read) before the payout locks its payer's account (InferenceService's accept). {@code verification}
     * is the job's verification after it ({@code skipped}: not sampled, else it is pending). Returns the id.
     */
    public String result(DbTransaction tx, Subject subject, String verification, String id) {
        boolean skipped = "skipped".equals(verification);
        // a replica check or a canary is not announced before its verdict: both read as pending here
        return issue(tx, id, RESULT, subject, skipped ? "skipped" : "pending", skipped ? "not-sampled" : null, null);
    }

    /**
     * The price of a payout of {@code entries} to the node session {@code sessionId}, as {@link Subject#price} reads
     * it from the stored transaction: the sum of its credits and the node's, publisher's and platform's parts.
     */
    public static ObjectNode price(String sessionId, List<Ledger.Entry> entries) {
        long[] parts = new long[4];
        String nodeAccount = Ledger.accountId("node_session", sessionId);
        for (Ledger.Entry e : entries) {
            addCredit(parts, nodeAccount, e.accountId(), e.amountMicroUsdc());
        }
        return price(parts);
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
        return issue(tx, newId(), VERIFICATION, Subject.of(tx, job, result), passed ? "passed" : "failed", method,
                null);
    }

    /**
     * A reversal of {@code amount} µUSDC credited to the node for {@code result}; {@code cause} says why
     * ({@code verification-failed}, {@code forfeited}), {@code status} is the result's verification status.
     */
    public String reversal(DbTransaction tx, DbRow job, DbRow result, long amount, String cause, String status) {
        ObjectNode reversal = Json.object();
        reversal.put("node_micro_usdc", amount);
        reversal.put("cause", cause);
        return issue(tx, newId(), REVERSAL, Subject.of(tx, job, result), status, null, reversal);
    }

    private String issue(DbTransaction tx, String id, String kind, Subject subject, String status, String method,
                         ObjectNode reversal) {
        Instant now = ledger.now();
        String sessionId = subject.sessionId();
        String jobId = subject.jobId();
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
        ObjectNode m = r.putObject("model");
        m.put("id", subject.modelId());
        m.put("gguf_sha256", subject.modelSha256());
        r.set("prompt", prompt(subject.promptIdsJson(), subject.prompt()));
        ObjectNode output = r.putObject("output");
        output.put("token_ids_sha256", tokenIdsSha256(Json.parse(subject.tokenIdsJson())));
        output.put("tokens", subject.tokenCount());
        ObjectNode timing = r.putObject("timing");
        timing.put("engine", subject.engine());
        timing.put("prefill_ms", subject.prefillMs());
        timing.put("decode_ms", subject.decodeMs());
        r.set("price", subject.price());
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
    private static ObjectNode prompt(String ids, String text) {
        ObjectNode p = Json.object();
        if (ids != null) {
            JsonNode array = Json.parse(ids);
            p.put("of", "token_ids");
            p.put("sha256", tokenIdsSha256(array));
            p.put("tokens", array.size());
        } else {
            p.put("of", "text");
            p.put("sha256", Ids.sha256Hex(text));
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
        long[] parts = new long[4];
        String nodeAccount = Ledger.accountId("node_session", sessionId);
        for (DbRow e : Database.list(exec, "entries-of-transaction", Database.str(result, "payout_tx_id"))) {
            addCredit(parts, nodeAccount, Database.str(e, "account_id"), Database.lng(e, "amount_micro_usdc"));
        }
        return price(parts);
    }

    /** Adds a credit (amount > 0; debits count for nothing) to {@code parts}: total, node, publisher, platform. */
    private static void addCredit(long[] parts, String nodeAccount, String account, long amount) {
        if (amount <= 0) {
            return;
        }
        parts[0] += amount;
        if (account.equals(nodeAccount)) {
            parts[1] += amount;
        } else if (account.equals(Ledger.PLATFORM_ACCOUNT)) {
            parts[3] += amount;
        } else if (account.startsWith("publisher:")) {
            parts[2] += amount;
        }
    }

    private static ObjectNode price(long[] parts) {
        ObjectNode p = Json.object();
        p.put("total_micro_usdc", parts[0]);
        p.put("node_micro_usdc", parts[1]);
        p.put("publisher_micro_usdc", parts[2]);
        p.put("platform_micro_usdc", parts[3]);
        return p;
    }

    /** The node's credit in the result's payout transaction (what a reversal takes back). */
    public static long nodeCredit(DbExecute exec, DbRow result) {
        return price(exec, result, Database.str(result, "session_id")).path("node_micro_usdc").asLong();
    }
}
