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
    /** An accepted result. */
    record Answer(String text, int[] tokenIds, String verification) {
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
                DbRow r = Database.get(db.execute(), "result-by-job", jobId).orElseThrow();
                Answer a = new Answer(StoredText.read(r, "result_text"), ids(Database.str(r, "token_ids_json")),
                        Database.str(job, "verification"));
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

    private static int[] ids(String json) {
        JsonNode a = io.earnidle.backend.http.Json.parse(json);
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }
}
