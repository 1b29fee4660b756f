package io.earnidle.backend.inference;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.canary.Canaries;
import io.earnidle.backend.canary.PlatformJobs;
import io.earnidle.backend.capability.Capability;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.db.StoredText;
import io.earnidle.backend.http.Fields;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.jobs.JobCharges;
import io.earnidle.backend.jobs.JobJson;
import io.earnidle.backend.leases.Leases;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.models.Models;
import io.earnidle.backend.nodes.NodeSessions;
import io.earnidle.backend.receipts.Receipts;
import io.earnidle.backend.reputation.Reputation;
import io.earnidle.backend.reputation.TrustPolicy;
import io.earnidle.backend.settings.Settings;
import io.earnidle.backend.verification.VerificationQueue;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;
import io.helidon.dbclient.DbTransaction;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import static io.earnidle.backend.db.Database.ts;

/**
 * Node side of inference: {@code GET /api/inference/job} (lease) and {@code POST /api/inference/result}. How long a
 * lease runs, the lease cap and expired leases are {@link Leases}'; how many polls run at once,
 * {@link PollAdmission}'s.
 */
public record InferenceService(Settings settings, Database db, Ledger ledger, Models models, NodeSessions sessions,
                               VerificationQueue verification, Leases leases, TrustPolicy trust,
                               Canaries canaries, Capability capability, Receipts receipts, PollAdmission polls)
        implements HttpService {
    private static final int MAX_TEXT_BYTES = 64 * 1024;
    private static final int LEASE_CANDIDATES = 8;

    @Override
    public void routing(HttpRules rules) {
        rules.get("/job", this::lease)
                .post("/result", this::result);
    }

    // ---------------------------------------------------------------- lease

    private void lease(ServerRequest req, ServerResponse res) {
        String key = polls.enter(req.headers().first(HeaderNames.AUTHORIZATION).orElse(null));
        boolean leased = false;
        try {
            leased = lease(req, res, ledger.now());
        } finally {
            polls.leave(key, leased);
        }
    }

    /** Answers a poll; true when it leased a job. */
    private boolean lease(ServerRequest req, ServerResponse res, Instant now) {
        NodeSessions.Session session = sessions.authenticate(req, now);
        if (!session.placementEarning()) {
            // paused or suspended since the session registered: no more work through it (docs/security.md)
            noJob(res);
            return false;
        }
        String held = req.query().first("held").orElse(null);
        if (idle(session, held, now)) {
            noJob(res);
            return false;
        }
        long maxModelBytes = session.memoryLimitMb() == null
                ? Long.MAX_VALUE : session.memoryLimitMb() * 1024L * 1024L;
        Reputation.Standing standing = trust.standing(db.execute(), session.id());
        // leases that ran out go back to the queue (each a failed attempt) before anything is leased
        leases.expireStalled(now);
        // benchmark bookkeeping and the session's standing for dispatch (docs/trust.md); held: model files it holds
        Capability.Poll poll = capability.beforeLease(session.id(), now);
        // a shadow-banned identity's polls get no jobs, answered as if the queue were empty (docs/trust.md)
        Optional<Leased> leased = standing.banned() ? Optional.empty() : db.inTransaction(tx -> {
            boolean skipLocked = leases.settings().skipLockedDispatch();
            if (skipLocked) { // its candidate query locks job rows: the session's row first, as before any claim
                leases.requireBelowCap(tx, session.id(), now);
            }
            return leaseOne(tx, session, standing, poll, now, maxModelBytes, !skipLocked);
        });
        if (leased.isEmpty()) {
            noJob(res);
            return false;
        }
        DbRow job = leased.get().job();
        if (leased.get().expiredHolder() != null) { // the job's last lease ran out and was not re-queued yet
            trust.leaseExpired(db, leased.get().expiredHolder(), now);
        }
        canaries.afterLease(job);
        Json.send(res, Status.OK_200, JobJson.lease(job, leased.get().model(), leased.get().leaseId(),
                leased.get().expiresAt()));
        return true;
    }

    /** The answer to a poll that gets no job: 204, not cached. */
    private static void noJob(ServerResponse res) {
        res.status(Status.NO_CONTENT_204);
        res.headers().set(HeaderNames.CACHE_CONTROL, "no-store");
        res.send();
    }

    /**
     * An idle poll, answered 204 after one read (poll-idle-check) instead of the lease path's dozen statements: no job
     * is queued, no lease has run out (so expiring stalled leases and reading candidates would find nothing), the
     * session is below its lease cap (else the lease path answers 429) and its capability bookkeeping has nothing to
     * do ({@link Capability#settled}). Its held files are still applied. Most polls are idle wherever nodes outnumber
     * jobs (docs/trust.md "Idle polls").
     */
    private boolean idle(NodeSessions.Session session, String held, Instant now) {
        capability.held(session.id(), held, now);
        DbRow check = Database.get(db.execute(), "poll-idle-check", ts(now), session.id(), ts(now), session.id(),
                session.id(), session.id(), session.id()).orElseThrow();
        return !Database.bool(check, "leasable")
                && Database.lng(check, "active_leases") < leases.settings().maxPerSession()
                && capability.settled(check);
    }

    /**
     * A job just leased (its row as read before the claim: what a lease answer holds does not change), its model, the
     * lease and its expiry, and the holder of the expired lease it was taken over from, if any.
     */
    private record Leased(DbRow job, Models.Model model, String leaseId, Instant expiresAt, String expiredHolder) {
    }

    /**
     * Leases the oldest runnable job. Each candidate is claimed with one conditional UPDATE that also checks the
     * row version, so two requests (or two backend instances) can never hold the same job: the loser's UPDATE
     * matches no row and it moves on to the next candidate. A session never gets a job back whose result from it
     * failed verification, or whose lease it let time out or reported as failed. The lease's length is sized
     * ({@link Leases#expiry}) before its claim, in the same transaction, so that the claim writes it. With
     * {@code capUnchecked}, the session's row is locked and its lease cap checked ({@link Leases#requireBelowCap})
     * only right before the first claim (or before answering that there is none): candidates are read and admitted
     * (the warm preference's rival scan) without that lock held, so the verifier and result transactions that lock
     * the same row wait for a claim, not for a scan.
     */
    private Optional<Leased> leaseOne(DbTransaction tx, NodeSessions.Session session, Reputation.Standing standing,
                                      Capability.Poll poll, Instant now, long maxModelBytes, boolean capUnchecked) {
        boolean checkCap = capUnchecked;
        for (int round = 0; round < 3; round++) {
            List<DbRow> candidates = leases.settings().skipLockedDispatch()
                    ? Database.list(tx, "lease-candidates-skip-locked", ts(now), maxModelBytes,
                            standing.tier().rank(), standing.identity(), session.id(), session.id(), session.id(),
                            LEASE_CANDIDATES)
                    : candidates(tx, session.id(), standing, now, maxModelBytes);
            if (candidates.isEmpty()) {
                break;
            }
            boolean claimTried = false;
            for (DbRow c : candidates) {
                if (!capability.admits(tx, poll, c, now)) {
                    continue; // not eligible, or left to a better idle session for now
                }
                claimTried = true;
                if (checkCap) {
                    leases.requireBelowCap(tx, session.id(), now);
                    checkCap = false;
                }
                String jobId = Database.str(c, "id");
                long version = Database.lng(c, "version");
                // the job as the claim will find it (its version unchanged), read to size the lease before the claim
                Optional<DbRow> job = Database.get(tx, "job-by-id", jobId)
                        .filter(j -> Database.lng(j, "version") == version);
                Optional<Models.Model> model = capability.model(tx, poll, Database.str(c, "model_id"));
                if (job.isEmpty() || model.isEmpty()) {
                    continue; // changed since the candidates were read (its claim would fail), or its model retired
                }
                Instant expires = leases.expiry(tx, job.get(), model.get(), session.id(), now);
                String leaseId = Ids.newId("lease_");
                long claimed = tx.namedUpdate("claim-job", leaseId, session.id(), ts(expires), jobId, version,
                        ts(now));
                if (claimed == 1) {
                    capability.leased(tx, leaseId, jobId, session.id(), now);
                    leases.open(tx, jobId, session.id(), leaseId, now);
                    return Optional.of(new Leased(job.get(), model.get(), leaseId, expires,
                            Database.str(c, "leased_to")));
                }
            }
            if (!claimTried) {
                break; // none admitted: another round would read and refuse the same jobs (rounds retry lost claims)
            }
        }
        if (checkCap) { // nothing to lease: a session at its cap is still told so (429), as before any claim
            leases.requireBelowCap(tx, session.id(), now);
        }
        return Optional.empty();
    }

    /** lease-candidates: the session's own benchmark, then queued customer jobs and those whose lease ran out. */
    private static List<DbRow> candidates(DbTransaction tx, String sessionId, Reputation.Standing standing,
                                          Instant now, long maxModelBytes) {
        int tier = standing.tier().rank();
        String identity = standing.identity();
        return Database.list(tx, "lease-candidates",
                sessionId, ts(now), maxModelBytes, tier, identity, sessionId, sessionId,
                maxModelBytes, tier, identity, sessionId, sessionId, LEASE_CANDIDATES,
                ts(now), maxModelBytes, tier, identity, sessionId, sessionId, LEASE_CANDIDATES,
                LEASE_CANDIDATES);
    }

    // ---------------------------------------------------------------- result

    /** The validated shape of a result body. */
    private record Submitted(String jobId, String leaseId, String text, int[] tokenIds, String engine,
                             double prefillMs, double decodeMs) {
    }

    private void result(ServerRequest req, ServerResponse res) {
        Instant now = ledger.now();
        NodeSessions.Session session = sessions.authenticateLeaseHolder(req, now);
        String key = req.headers().first(HeaderNames.create("Idempotency-Key")).map(String::trim).orElse("");
        if (key.isEmpty() || key.length() > 200) {
            throw Problem.validation("Idempotency-Key header is required (1 to 200 characters)");
        }
        byte[] bytes = Json.readBytes(req, settings.maxBodyBytes());
        String requestHash = Ids.sha256Hex(bytes);
        Submitted s = parse(Json.parseObject(bytes));

        Optional<String> replay = replay(db.execute(), key, session, requestHash);
        if (replay.isPresent()) {
            Json.sendRaw(res, Status.OK_200, replay.get());
            return;
        }
        String response = db.inTransaction(tx -> accept(tx, session, s, key, requestHash, now));
        verification.wake();
        Json.sendRaw(res, Status.OK_200, response);
    }

    /** The stored response of an earlier request with this key, 409 when the key was used for another body. */
    private static Optional<String> replay(DbExecute exec, String key, NodeSessions.Session session, String hash) {
        Optional<DbRow> prior = Database.get(exec, "result-by-idempotency-key", key);
        if (prior.isEmpty()) {
            return Optional.empty();
        }
        if (!hash.equals(Database.str(prior.get(), "request_sha256"))
                || !session.id().equals(Database.str(prior.get(), "session_id"))) {
            throw Problem.conflict("Idempotency-Key " + key + " was already used with a different request");
        }
        return Optional.of(Database.str(prior.get(), "response_json"));
    }

    private static Submitted parse(ObjectNode body) {
        String jobId = Fields.requiredString(body, "job_id", 64);
        String leaseId = Fields.requiredString(body, "lease_id", 64);
        JsonNode textNode = body.get("text");
        if (textNode == null || !textNode.isTextual()) {
            throw Problem.validation("text is required and must be a string");
        }
        String text = textNode.textValue();
        if (text.getBytes(StandardCharsets.UTF_8).length > MAX_TEXT_BYTES) {
            throw Problem.validation("text must be at most 64 KiB");
        }
        int[] ids = Fields.intArray(body, "token_ids", 1 << 20, Integer.MAX_VALUE);
        long count = Fields.requiredLong(body, "token_count", 1, Integer.MAX_VALUE);
        if (count != ids.length) {
            throw Problem.validation("token_count must equal the length of token_ids: " + count + " != "
                    + ids.length);
        }
        String engine = Fields.requiredString(body, "engine", 64);
        ObjectNode timing = Fields.requiredObject(body, "timing");
        double prefill = Fields.requiredDouble(timing, "prefill_ms", 0, Double.MAX_VALUE);
        double decode = Fields.requiredDouble(timing, "decode_ms", 0, Double.MAX_VALUE);
        return new Submitted(jobId, leaseId, text, ids, engine, prefill, decode);
    }

    /**
     * Result, job hand-over to verification (or completion when it is not sampled) and the held payout in the
     * caller's single transaction; returns the response JSON.
     */
    private String accept(DbTransaction tx, NodeSessions.Session session, Submitted s, String key,
                          String requestHash, Instant now) {
        DbRow job = Database.get(tx, "lock-job", s.jobId())
                .orElseThrow(() -> Problem.notFound("no job " + s.jobId()));
        receipts.lockChain(tx, session.id()); // before the ledger's account locks (Receipts#lockChain)
        // A concurrent retry with the same key may have committed while we waited for the row lock.
        Optional<String> replay = replay(tx, key, session, requestHash);
        if (replay.isPresent()) {
            return replay.get();
        }
        if ("completed".equals(Database.str(job, "status"))) {
            throw Problem.conflict("job " + s.jobId() + " is already completed");
        }
        if (!"leased".equals(Database.str(job, "status")) || !s.leaseId().equals(Database.str(job, "lease_id"))
                || !session.id().equals(Database.str(job, "leased_to"))) {
            throw Problem.conflict("lease " + s.leaseId() + " is not the current lease of job " + s.jobId()
                    + " for this session");
        }
        if (!Database.instant(job, "lease_expires_at").isAfter(now)) {
            throw Problem.conflict("lease " + s.leaseId() + " expired at "
                    + Database.instant(job, "lease_expires_at"));
        }
        long maxTokens = Database.lng(job, "max_tokens");
        if (s.tokenIds().length > maxTokens) {
            throw Problem.validation("token_count must be between 1 and max_tokens " + maxTokens + ", got "
                    + s.tokenIds().length);
        }
        Models.Model model = models.find(tx, Database.str(job, "model_id")).orElseThrow();
        for (int i = 0; i < s.tokenIds().length; i++) {
            if (s.tokenIds()[i] >= model.vocabSize()) {
                throw Problem.validation("token_ids[" + i + "] = " + s.tokenIds()[i]
                        + " is outside the model's vocabulary of " + model.vocabSize());
            }
        }

        // timing plausibility (docs/trust.md): an implausible result is verified, and fails, like a forged one
        Capability.Assessment timing = capability.assess(tx, session.id(), job, model, s.leaseId(), s.engine(),
                s.tokenIds().length, s.prefillMs(), s.decodeMs(), now);
        String check = trust.onResult(tx, job, session.id(), now); // by tier, canary, replica (docs/trust.md)
        if (timing.mustVerify()) {
            check = TrustPolicy.PENDING; // a benchmark, or an implausible timing: always the verifier's
        }
        boolean verify = !TrustPolicy.SKIPPED.equals(check);
        JobCharges.Charge charge = JobCharges.of(settings.rateCard(), models, model, job, s.tokenIds().length);
        long completed = tx.namedUpdate("submit-job-charged", verify ? "verifying" : "completed", check,
                verify ? null : ts(now), charge.promptTokens(), charge.completionTokens(), charge.microUsdc(),
                s.jobId(), Database.lng(job, "version"));
        if (completed != 1) {
            throw Problem.conflict("job " + s.jobId() + " changed while the result was being accepted");
        }
        DbRow placement = Database.get(tx, "placement-by-id", session.placementId()).orElseThrow();
        long price = charge.microUsdc();
        Ledger.Split split = Ledger.split(price, settings.platformFeeBps(),
                (int) Database.lng(placement, "publisher_share_bps"));
        String publisherAccount = ledger.ensureAccount(tx, "publisher", Database.str(placement, "publisher_id"));
        List<Ledger.Entry> payout = List.of(
                new Ledger.Entry(PlatformJobs.payerAccount(job), -price),
                new Ledger.Entry(Ledger.PLATFORM_ACCOUNT, split.platformFee()),
                new Ledger.Entry(session.accountId(), split.visitor()),
                new Ledger.Entry(publisherAccount, split.publisher()));

        // The receipt (docs/receipts.md) from what the result row and the payout will hold. The payout's debit of the
        // payer (one customer's account row for all its jobs, locked until the commit) is applied last of all.
        String receiptId = Receipts.newId();
        String tokenIdsJson = Json.write(s.tokenIds());
        receipts.result(tx, new Receipts.Subject(s.jobId(), model.id(), model.sha256(),
                Database.str(job, "prompt_ids_json"), Database.str(job, "prompt"), session.id(), tokenIdsJson,
                s.tokenIds().length, s.engine(), s.prefillMs(), s.decodeMs(), Receipts.price(session.id(), payout)),
                verify ? "pending" : "skipped", receiptId);

        Ledger.HeldPosting posting = ledger.postHeldDebitsLast(tx, "job_payout", s.jobId(), payout);
        String payoutTx = posting.transactionId();
        ObjectNode out = Json.object();
        out.put("job_id", s.jobId());
        out.put("status", "accepted");
        out.put("verification", verify ? "pending" : "skipped");
        out.put("payout_micro_usdc", split.visitor());
        // read without settling: settling locks the node's account row, and a transaction that holds it must not then
        // wait for the payer's (Ledger.lock's id order; the verifier's reversal locks both in that order)
        Ledger.Amounts node = ledger.unsettledView(tx, session.accountId()); // a skipped one counts as available
        out.put("balance_micro_usdc", node.available());
        out.put("pending_micro_usdc", node.pending());
        out.put("receipt_id", receiptId);
        String response = Json.write(out);
        tx.namedInsert("insert-result", s.jobId(), session.id(), s.leaseId(), StoredText.encode(s.text()),
                tokenIdsJson, s.tokenIds().length, s.engine(), s.prefillMs(),
                s.decodeMs(), key, requestHash, response, ts(now), payoutTx);
        capability.recorded(tx, session.id(), job, model, s.engine(), timing, now);
        posting.applyDebits(tx);
        return response;
    }
}
