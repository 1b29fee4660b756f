package io.earnidle.backend.canary;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.db.StoredText;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.jobs.JobCharges;
import io.earnidle.backend.jobs.JobJson;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.models.Models;
import io.earnidle.backend.settings.Settings;
import io.earnidle.backend.verification.ResultVerifier;
import io.earnidle.backend.verification.VerificationQueue;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.loop.JobSpec;
import io.helidon.config.Config;
import io.helidon.dbclient.DbRow;

import static io.earnidle.backend.db.Database.ts;

/**
 * Canary jobs (docs/trust.md): jobs with a known answer, mixed into the queue at {@code earnidle.trust.canary.rate}
 * per leased customer job. A canary copies the shape of the customer job whose lease triggered it (model,
 * max_tokens, greedy or the same sampling parameters with a fresh seed) with a prompt drawn from the corpus
 * {@code canary/prompts.txt}; the platform pays it ({@link PlatformJobs}). Its result is always checked: the known
 * answer is the backend's JVM engine's output for the job; a result equal to it passes at once, any other result is
 * judged teacher-forced with the verifier's margin rule (a legitimate engine may flip a near tie and then diverge).
 */
public final class Canaries {
    private final double rate;
    private final Settings settings;
    private final Database db;
    private final Ledger ledger;
    private final Models models;
    private final VerificationQueue verifier;
    private final List<String> prompts;

    public Canaries(double rate, Settings settings, Database db, Ledger ledger, Models models,
                    VerificationQueue verifier) {
        if (!(rate >= 0 && rate <= 1)) {
            throw new IllegalArgumentException("earnidle.trust.canary.rate must be in [0, 1]");
        }
        this.rate = rate;
        this.settings = settings;
        this.db = db;
        this.ledger = ledger;
        this.models = models;
        this.verifier = verifier;
        this.prompts = corpus();
    }

    /** {@code earnidle.trust.canary.rate} (default 0.05). */
    public static double rate(Config trust) {
        return trust.get("canary.rate").asDouble().orElse(0.05);
    }

    private static List<String> corpus() {
        try (InputStream in = Canaries.class.getResourceAsStream("/canary/prompts.txt")) {
            if (in == null) {
                throw new IllegalStateException("canary/prompts.txt is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A customer job was leased: with probability {@code rate}, queue a canary shaped like it. */
    public Optional<String> afterLease(DbRow leased) {
        if (rate <= 0 || PlatformJobs.checkKind(leased) != null || Database.str(leased, "benchmark_for") != null
                || ThreadLocalRandom.current().nextDouble() >= rate) {
            return Optional.empty();
        }
        return Optional.of(inject(leased));
    }

    /** Queues a canary shaped like {@code template} (a job row); returns its id. */
    public String inject(DbRow template) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        ObjectNode sampling = (ObjectNode) Json.parse(Database.str(template, "sampling_json"));
        sampling.put("seed", rnd.nextLong(0, Integer.MAX_VALUE));
        long maxTokens = Database.lng(template, "max_tokens");
        String prompt = prompts.get(rnd.nextInt(prompts.size()));
        Instant now = ledger.now();
        return db.inTransaction(tx -> PlatformJobs.insert(tx, "canary", Database.str(template, "model_id"), prompt,
                null, true, Json.write(sampling), maxTokens,
                JobCharges.reservation(settings.rateCard().of(Database.str(template, "model_id")), prompt, null,
                        maxTokens), "probation", null, null, now));
    }

    /**
     * The canary check: passes a result equal to the known answer; empty (teacher-forced verification decides with
     * the margin rule) for any other result, and for jobs that are no canaries.
     */
    public Optional<ResultVerifier.Verdict> check(DbRow job, int[] claimedIds, String claimedText) {
        if (!"canary".equals(PlatformJobs.checkKind(job))) {
            return Optional.empty();
        }
        GenerationResult expected = knownAnswer(job);
        if (Arrays.equals(expected.tokenIds(), claimedIds) && expected.text().equals(claimedText)) {
            return Optional.of(new ResultVerifier.Verdict(true, "matches the canary's known answer",
                    claimedIds.length, 0));
        }
        return Optional.empty();
    }

    /** The canary's answer from the JVM engine, computed once and stored in {@code canary_answers}. */
    GenerationResult knownAnswer(DbRow job) {
        String jobId = Database.str(job, "id");
        Optional<DbRow> stored = Database.get(db.execute(), "canary-answer", jobId);
        if (stored.isPresent()) {
            try {
                return new GenerationResult(
                        Json.MAPPER.readValue(Database.str(stored.get(), "token_ids_json"), int[].class),
                        StoredText.read(stored.get(), "result_text"), 0, 0);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        Models.Model model = models.find(db.execute(), Database.str(job, "model_id")).orElseThrow();
        GenerationResult answer = verifier.engine(model).generate(JobSpec.parse(Json.write(JobJson.lease(job, model,
                "canary", Database.instant(job, "created_at")))).toRequest());
        db.execute().namedInsert("canary-answer-insert", jobId, Json.write(answer.tokenIds()),
                StoredText.encode(answer.text()), ts(ledger.now()));
        return answer;
    }
}
