package io.earnidle.load;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.EarnIdleServer;
import io.earnidle.backend.db.Database;
import io.earnidle.e2e.TestBackend;
import io.helidon.dbclient.DbRow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The load generator at a tiny N against a real backend: it works end to end, and its figures are what the backend
 * answered and stored (no timing is asserted).
 */
class LoadRunTest {
    @TempDir
    Path dir;

    @Test
    void fewNodesCompleteRealJobsAndTheFiguresMatchTheDatabase() throws Exception {
        try (EarnIdleServer server = TestBackend.start(dir, LoadBench.SETTINGS)) {
            LoadRun.Result r = LoadRun.run(List.of("http://127.0.0.1:" + server.port()), LoadBench.API_KEY, 3,
                    1000, 3000);
            Database db = server.backend().database();

            assertEquals(3, r.registered());
            assertEquals(0, r.errors().size(), "no request failed: " + r.errors());
            assertTrue(r.cycles() > 0, "the nodes answered jobs");
            // every accepted result the tool counted is a stored result, and nothing else was stored; the honest
            // answers pass verification (a rejected result moves from job_results to rejected_results)
            try (Stream<DbRow> rejected = db.execute().query("SELECT reason FROM rejected_results")) {
                assertEquals(List.of(), rejected.map(row -> Database.str(row, "reason")).toList());
            }
            assertEquals(r.cycles(), count(db, "SELECT COUNT(*) AS n FROM job_results"));
            assertTrue(r.measuredCycles() <= r.cycles());
            assertEquals(r.measuredCycles(), r.submit().count(), "one submit latency per measured result");
            // the customers' jobs the tool saw answered were answered in the database, by its nodes
            assertTrue(!r.customerJobsCompleted().isEmpty());
            for (String id : r.customerJobsCompleted()) {
                String status = Database.str(Database.get(db.execute(), "job-by-id", id).orElseThrow(), "status");
                assertTrue(status.equals("completed") || status.equals("verifying"), id + " is " + status);
            }
            assertEquals(r.customerJobsSubmitted(),
                    count(db, "SELECT COUNT(*) AS n FROM jobs WHERE customer_id = 'demo-customer'"));
            assertTrue(r.trivial().requests() > 0);
            assertEquals(r.trivial().requests(), r.trivial().latencies().count());

            ObjectNode json = LoadBench.json("h2", 1, r);
            assertEquals(r.measuredCycles(), json.path("cycles").asLong());
            assertEquals(r.customerJobsCompleted().size(), json.path("customer_jobs_completed").asInt());
        }
    }

    private static long count(Database db, String sql) {
        try (Stream<DbRow> rows = db.execute().query(sql)) {
            return Database.lng(rows.findFirst().orElseThrow(), "n");
        }
    }
}
