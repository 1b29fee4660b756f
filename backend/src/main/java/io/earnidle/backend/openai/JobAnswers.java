package io.earnidle.backend.openai;

import java.util.Optional;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.db.StoredText;
import io.helidon.dbclient.DbRow;

/**
 * Waits for a job's accepted result: the job is {@code completed} once its result passed verification or was not
 * sampled for it ({@code skipped}, docs/trust.md); until then nothing of a result is final. Bounded by
 * {@link OpenAiSettings#maxWait}; looks at the job every {@link OpenAiSettings#pollInterval}.
 */
final class JobAnswers {
    /**
     * An accepted result: its text, its token ids (empty from an upstream, which answers text), its verification, the
     * tier that served it (docs/api.md "Cascade"), its completion tokens and the upstream's finish reason (null: the
     * token ids tell it).
     */
    record Answer(String text, int[] tokenIds, String verification, String tier, int completionTokens,
                  String finishReason) {
    }

    private final Database db;
    private final OpenAiSettings settings;
    private final PartialOutput partial;

    JobAnswers(Database db, OpenAiSettings settings, PartialOutput partial) {
        this.db = db;
        this.settings = settings;
        this.partial = partial;
    }

    /** The job's accepted result, or an error: the job failed, or the wait ran out. */
    Answer await(String jobId) {
        return await(jobId, false, null);
    }

    /**
     * As {@link #await(String)}, handing {@code deltas} each new piece of text as it becomes known: the job's
     * partial output (unless {@code verifiedOnly}), then what the accepted result adds to it. If the accepted text
     * does not continue what was already handed on (the node whose partial output was streamed lost its lease or
     * had its result rejected), the stream cannot take it back: that is an error ({@code streamed_output_rejected}).
     */
    Answer await(String jobId, boolean verifiedOnly, Consumer<String> deltas) {
        long deadline = System.nanoTime() + settings.maxWait().toNanos();
        String sent = "";
        while (true) {
            DbRow job = Database.get(db.execute(), "openai-job", jobId).orElseThrow();
            String status = Database.str(job, "status");
            if (status.equals("completed")) {
                Answer a = answer(job);
                if (deltas != null) {
                    if (!a.text().startsWith(sent)) {
                        throw new OpenAiError(500, "server_error", null, "streamed_output_rejected", "The output "
                                + "streamed so far was not accepted (its node lost the job or its result failed "
                                + "verification); the accepted answer is at GET /api/jobs/" + jobId);
                    }
                    if (a.text().length() > sent.length()) {
                        deltas.accept(a.text().substring(sent.length()));
                    }
                }
                return a;
            }
            if (status.equals("failed") && "upstream".equals(Database.str(job, "served_tier"))) {
                throw new OpenAiError(502, "server_error", null, "upstream_failed", "Job " + jobId + " cascaded to "
                        + "the upstream tier, which gave no usable answer. You were not charged for it.");
            }
            if (status.equals("failed")) {
                throw new OpenAiError(500, "server_error", null, "job_failed", "Job " + jobId + " failed: every "
                        + "result the nodes returned was rejected by verification. You were not charged for it.");
            }
            if (deltas != null && !verifiedOnly) {
                Optional<String> soFar = partial.textSoFar(jobId);
                if (soFar.isPresent() && soFar.get().length() > sent.length() && soFar.get().startsWith(sent)) {
                    deltas.accept(soFar.get().substring(sent.length()));
                    sent = soFar.get();
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new OpenAiError(504, "server_error", null, "timeout", "Job " + jobId + " has no accepted "
                        + "result after " + settings.maxWait().toSeconds() + " s (status " + status + "). It goes "
                        + "on: its result will be at GET /api/jobs/" + jobId);
            }
            try {
                Thread.sleep(settings.pollInterval());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for job " + jobId, e);
            }
        }
    }

    /** The accepted result of the completed {@code job}: a node's, or the upstream's it cascaded to. */
    private Answer answer(DbRow job) {
        String jobId = Database.str(job, "id");
        String served = Database.str(job, "served_tier");
        String tier = served != null ? served : Database.str(job, "min_tier");
        if ("upstream".equals(served)) {
            DbRow r = Database.get(db.execute(), "cascade-result-by-job", jobId).orElseThrow();
            return new Answer(StoredText.read(r, "result_text"), new int[0], Database.str(job, "verification"), tier,
                    (int) Database.lng(r, "completion_tokens"), Database.str(r, "finish_reason"));
        }
        DbRow r = Database.get(db.execute(), "result-by-job", jobId).orElseThrow();
        int[] ids = ids(Database.str(r, "token_ids_json"));
        return new Answer(StoredText.read(r, "result_text"), ids, Database.str(job, "verification"), tier, ids.length,
                null);
    }

    private static int[] ids(String json) {
        JsonNode a = io.earnidle.backend.http.Json.parse(json);
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }
}
