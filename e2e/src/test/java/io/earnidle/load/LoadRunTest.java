package io.earnidle.load;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.helidon.dbclient.DbRow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The load generator at a tiny N against real backends, on each {@link LoadStore} (one on H2; two in cluster mode on
 * one real PostgreSQL): it works end to end, and its figures are what the backends answered and stored (no timing is
 * asserted).
 */
class LoadRunTest {
    @TempDir
    Path dir;

    @Test
    void fewNodesCompleteRealJobsAndTheFiguresMatchTheDatabase() throws Exception {
        fewNodesOn(LoadStore.H2, 3);
    }

    @Test
    void fewNodesOnTwoInstancesOfOnePostgresCompleteRealJobs() throws Exception {
        fewNodesOn(LoadStore.POSTGRES2, 4);
    }

    private void fewNodesOn(LoadStore store, int nodes) throws Exception {
        try (LoadStore.Backends backends = store.start(dir, LoadBench.SETTINGS)) {
            assertEquals(store.instances(), backends.baseUrls().size());
            LoadRun.Result r = LoadRun.run(backends.baseUrls(), LoadBench.API_KEY, nodes, 1000, 3000);
            // a cluster's instances share one database: any of them reads what all of them stored
            Database db = backends.servers().getFirst().backend().database();

            assertEquals(nodes, r.registered());
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

            ObjectNode json = LoadBench.json(store, r);
            assertEquals(store.id(), json.path("store").asText());
            assertEquals(store.instances(), json.path("instances").asInt());
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
