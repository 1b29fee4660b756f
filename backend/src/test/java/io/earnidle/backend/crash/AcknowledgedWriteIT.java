package io.earnidle.backend.crash;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.earnidle.backend.crash.CrashHttp.Answer;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.crash.CrashHttp.get;
import static io.earnidle.backend.crash.CrashHttp.post;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What the server acknowledged survives {@code kill -9} of its process on the embedded H2 store: found by
 * {@link CrashRecoveryIT}, where jobs and payouts answered 202 just before the kill were gone after the restart (H2
 * wrote committed transactions to its file only after a write delay). Writes in a transaction (a job's submission)
 * and single statements outside one (its cancellation) alike: the store's group commit ({@code db/GroupCommit}) and
 * {@code http/DurableResponses}.
 */
class AcknowledgedWriteIT {
    @Test
    void acknowledgedWritesSurviveKillNine() throws Exception {
        Path work = Files.createTempDirectory("earnidle-ack");
        Path data = Files.createDirectory(work.resolve("data"));
        try {
            killAfterAcknowledging(work, data);
        } finally {
            BackendProcess.deleteTree(work);
        }
    }

    private static void killAfterAcknowledging(Path work, Path data) throws Exception {
        try (BackendProcess server = new BackendProcess("h2-ack", work, Map.of("earnidle.data-dir", data.toString(),
                "earnidle.capability.benchmark.enabled", "false"))) {
            server.start();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                Answer a = CrashHttp.send(server.base(), post("/api/jobs", "demo-customer-key", """
                        {"model":"%s","prompt":"kept %d","max_tokens":4}""".formatted("synthetic-tiny-f32", i)));
                assertEquals(202, a.status(), a.body());
                ids.add(a.json().path("id").asText());
            }
            // a cancellation is one UPDATE outside any transaction, acknowledged with 200
            String cancelled = ids.get(ids.size() - 1);
            Answer cancel = CrashHttp.send(server.base(), post("/api/jobs/" + cancelled + "/cancel",
                    "demo-customer-key", "{}"));
            assertEquals(200, cancel.status(), cancel.body());
            assertEquals("cancelled", cancel.json().path("status").asText(), cancel.body());
            server.kill9(); // at once: no write delay of the store may pass before the kill
            server.start();
            for (String id : ids) {
                Answer after = CrashHttp.send(server.base(), get("/api/jobs/" + id, "demo-customer-key"));
                assertEquals(200, after.status(), "job " + id + " acknowledged before kill -9: " + after.body());
                if (id.equals(cancelled)) {
                    assertEquals("cancelled", after.json().path("status").asText(),
                            "cancellation acknowledged before kill -9: " + after.body());
                }
            }
        }
    }
}
