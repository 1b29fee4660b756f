package io.earnidle.backend.openai;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.db.TempStore;
import io.earnidle.backend.demo.Seeder;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.jobs.Jobs;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.settings.Settings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The streamer's source of partial output ({@link PartialOutput}): what a stream sends while a node decodes, once a
 * progress store plugs in. Each test scripts the source so that its n-th look at the job returns the next piece of
 * partial text and, at the end, the job completes with its accepted result — no threads, no waiting.
 */
class JobAnswersTest {
    private static final OpenAiSettings FAST = new OpenAiSettings(Duration.ofMinutes(5), Duration.ofMillis(1), 0);
    private TempStore store;
    private Database db;
    private String jobId;

    @BeforeEach
    void job() throws IOException {
        store = TempStore.open("earnidle-answers-test");
        Settings settings = store.settings();
        db = store.db();
        Ledger ledger = new Ledger(Clock.systemUTC(), Duration.ZERO);
        Seeder.seed(db, ledger, settings);
        new io.earnidle.backend.models.Models(db, settings.modelsDir()).ensureSyntheticTiny(ledger.now());
        jobId = new Jobs(settings, db, ledger).create(Seeder.DEMO_CALLER, "synthetic-tiny-f32", null,
                new int[] {1, 2, 3}, Json.object(), 8).id();
    }

    @AfterEach
    void delete() throws IOException {
        store.close();
    }

    /** The job's accepted result: stored, and the job completed with its verification passed. */
    private void complete(String text) {
        db.inTransaction(tx -> {
            tx.insert("INSERT INTO node_sessions (id, token_sha256, placement_id, capabilities_json, limits_json, "
                    + "created_at, last_seen_at) VALUES ('ns_test', ?, 'demo-placement', '{}', '{}', ?, ?)",
                    "0".repeat(64), Database.ts(java.time.Instant.now()), Database.ts(java.time.Instant.now()));
            tx.insert("INSERT INTO job_results (job_id, session_id, lease_id, result_text, token_ids_json, "
                    + "token_count, engine, prefill_ms, decode_ms, idempotency_key, request_sha256, response_json, "
                    + "created_at) VALUES (?, 'ns_test', 'lease_test', ?, '[5,6,7]', 3, 'jvm', 1, 1, 'key', ?, '{}', ?)",
                    jobId, text, "0".repeat(64), Database.ts(java.time.Instant.now()));
            tx.dml("UPDATE jobs SET status = 'completed', verification = 'passed' WHERE id = ?", jobId);
            return null;
        });
    }

    /** A source that answers its looks with {@code pieces}, completing the job with {@code result} after the last. */
    private PartialOutput script(String result, String... pieces) {
        int[] looks = {0};
        return id -> {
            assertEquals(jobId, id);
            int k = looks[0]++;
            if (k == pieces.length - 1) {
                complete(result);
            }
            return k < pieces.length ? Optional.ofNullable(pieces[k]) : Optional.empty();
        };
    }

    @Test
    void partialOutputIsRelayedThenTheAcceptedRestFollows() {
        List<String> sent = new ArrayList<>();
        JobAnswers.Answer a = new JobAnswers(db, FAST, script("Hello world", "Hel", null, "Hello"))
                .await(jobId, false, sent::add);
        assertEquals(List.of("Hel", "lo", " world"), sent);
        assertEquals("Hello world", a.text());
        assertEquals("passed", a.verification());
    }

    @Test
    void verifiedOnlyNeverLooksAtPartialOutput() {
        List<String> sent = new ArrayList<>();
        PartialOutput never = id -> {
            throw new AssertionError("verified_only streams must not read partial output");
        };
        complete("Hello world");
        new JobAnswers(db, FAST, never).await(jobId, true, sent::add);
        assertEquals(List.of("Hello world"), sent, "the accepted text in one piece");
    }

    @Test
    void anAcceptedResultThatDoesNotContinueTheStreamedTextEndsTheStreamWithAnError() {
        List<String> sent = new ArrayList<>();
        OpenAiError e = assertThrows(OpenAiError.class, () -> new JobAnswers(db, FAST,
                script("Hello world", "Goodbye")).await(jobId, false, sent::add));
        assertEquals(List.of("Goodbye"), sent);
        assertEquals("streamed_output_rejected", e.code());
        assertTrue(e.getMessage().contains("/api/jobs/" + jobId), e.getMessage());
    }

    @Test
    void aFailedJobAndAnExhaustedWaitAreErrors() {
        OpenAiError timeout = assertThrows(OpenAiError.class, () -> new JobAnswers(db,
                new OpenAiSettings(Duration.ofNanos(1), Duration.ofMillis(1), 0), PartialOutput.NONE).await(jobId));
        assertEquals(504, timeout.status());
        assertEquals("timeout", timeout.code());
        db.execute().dml("UPDATE jobs SET status = 'failed', verification = 'failed' WHERE id = ?", jobId);
        OpenAiError failed = assertThrows(OpenAiError.class,
                () -> new JobAnswers(db, FAST, PartialOutput.NONE).await(jobId));
        assertEquals("job_failed", failed.code());
    }
}
