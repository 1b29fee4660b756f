package io.earnidle.backend;

import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.http.Ids;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.Resp;
import static io.earnidle.backend.TestSupport.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every 4xx path answers RFC 9457 problem+json and writes nothing. */
@ServerTest
class ErrorsTest extends BackendServerTest {
    private static final String JOB = "{\"model\":\"synthetic-tiny-f32\",\"prompt\":\"Hi\",\"max_tokens\":4}";

    private final Api api;

    ErrorsTest(Http1Client client) {
        this.api = new Api(client);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of("earnidle.limits.max-body-bytes", "4096",
                // synthetic results, paid unverified and at once, as before verification (docs/trust.md)
                "earnidle.ledger.verification-window-seconds", "0", "earnidle.trust.sample-rate", "0"), new TestSupport.MutableClock());
    }

    private long jobs() {
        return count(backend.database(), "SELECT COUNT(*) AS n FROM jobs");
    }

    @Test
    void malformedJson() {
        long before = jobs();
        api.post("/api/jobs", CUSTOMER_KEY, "{\"model\": ").problem(400, "malformed-json");
        api.post("/api/jobs", CUSTOMER_KEY, "[1,2]").problem(400, "malformed-json");
        api.post("/api/nodes", null, "not json").problem(400, "malformed-json");
        assertEquals(before, jobs());
    }

    @Test
    void validation() {
        long before = jobs();
        JsonNode p = api.post("/api/jobs", CUSTOMER_KEY,
                "{\"model\":\"synthetic-tiny-f32\",\"prompt\":\"Hi\",\"max_tokens\":100000}").problem(400, "validation");
        assertEquals("max_tokens must be between 1 and 256, got 100000", p.path("detail").asText());
        api.post("/api/jobs", CUSTOMER_KEY, "{\"model\":\"synthetic-tiny-f32\",\"prompt\":\"Hi\",\"prompt_ids\":[1],"
                + "\"max_tokens\":4}").problem(400, "validation");
        api.post("/api/jobs", CUSTOMER_KEY, "{\"model\":\"synthetic-tiny-f32\",\"prompt_ids\":[99999999],"
                + "\"max_tokens\":4}").problem(400, "validation");
        api.post("/api/jobs", CUSTOMER_KEY, "{\"model\":\"synthetic-tiny-f32\",\"prompt\":\"Hi\",\"max_tokens\":4,"
                + "\"sampling\":{\"temperature\":-1}}").problem(400, "validation");
        api.post("/api/nodes", null, "{\"placement_id\":\"demo-placement\",\"capabilities\":{},"
                + "\"limits\":{\"cpu_share\":5}}").problem(400, "validation");
        api.post("/api/nodes", null, "{\"placement_id\":\"demo-placement\",\"limits\":{}}").problem(400, "validation");
        // U+0000, which PostgreSQL text cannot hold, is refused in request strings on every store
        p = api.post("/api/jobs", CUSTOMER_KEY, "{\"model\":\"synthetic-tiny-f32\",\"prompt\":\"a\\u0000b\","
                + "\"max_tokens\":4}").problem(400, "validation");
        assertEquals("prompt must not contain the character U+0000", p.path("detail").asText());
        api.post("/api/nodes", null, "{\"placement_id\":\"demo\\u0000\",\"capabilities\":{},\"limits\":{}}")
                .problem(400, "validation");
        assertEquals(before, jobs());
    }

    @Test
    void seedsANodeCannotReadAreRefused() {
        long before = jobs();
        for (String seed : new String[] {"9007199254740993", "9223372036854775807", "-1"}) {
            JsonNode p = api.post("/api/jobs", CUSTOMER_KEY, "{\"model\":\"synthetic-tiny-f32\",\"prompt\":\"Hi\","
                    + "\"max_tokens\":4,\"sampling\":{\"seed\":" + seed + "}}").problem(400, "validation");
            assertEquals("seed must be between 0 and 2^53 = 9007199254740992 (the nodes read it as a double, which"
                    + " holds no larger integer exactly), got " + seed, p.path("detail").asText());
        }
        assertEquals(before, jobs());
    }

    @Test
    void unsupportedMediaType() {
        long before = jobs();
        api.post("/api/jobs", CUSTOMER_KEY, JOB, "text/plain", null).problem(415, "unsupported-media-type");
        api.post("/api/nodes", null, "{}", null, null).problem(415, "unsupported-media-type");
        assertEquals(before, jobs());
    }

    @Test
    void tooLarge() {
        long before = jobs();
        String big = "{\"model\":\"synthetic-tiny-f32\",\"max_tokens\":4,\"prompt\":\"" + "x".repeat(5000) + "\"}";
        api.post("/api/jobs", CUSTOMER_KEY, big).problem(413, "too-large");
        assertEquals(before, jobs());
    }

    @Test
    void unauthorized() {
        long before = jobs();
        api.post("/api/jobs", null, JOB).problem(401, "unauthorized");
        api.post("/api/jobs", "wrong-key", JOB).problem(401, "unauthorized");
        api.get("/api/jobs/job_x", null).problem(401, "unauthorized");
        api.get("/api/nodes/me", null).problem(401, "unauthorized");
        api.get("/api/nodes/me", "nst_unknown").problem(401, "unauthorized");
        api.get("/api/inference/job", "nst_unknown").problem(401, "unauthorized");
        api.post("/api/inference/result", "nst_unknown", "{}", "application/json", "k").problem(401, "unauthorized");
        assertEquals(before, jobs());
    }

    @Test
    void unknownModel() {
        long before = jobs();
        api.post("/api/jobs", CUSTOMER_KEY, "{\"model\":\"gpt-17\",\"prompt\":\"Hi\",\"max_tokens\":4}")
                .problem(422, "unknown-model");
        assertEquals(before, jobs());
    }

    @Test
    void notFound() {
        long sessions = count(backend.database(), "SELECT COUNT(*) AS n FROM node_sessions");
        assertEquals("no API endpoint GET /api/nope",
                api.get("/api/nope", null).problem(404, "not-found").path("detail").asText());
        api.get("/api", null).problem(404, "not-found");
        api.post("/api/models", null, "{}").problem(404, "not-found");
        // a service mounted on /api/jobs still names the whole path
        assertEquals("/api/jobs/job_missing",
                api.get("/api/jobs/job_missing", CUSTOMER_KEY).problem(404, "not-found").path("instance").asText());
        api.get("/models/nope.gguf", null).problem(404, "not-found");
        api.post("/api/nodes", null, "{\"placement_id\":\"nowhere\",\"capabilities\":{},\"limits\":{}}")
                .problem(404, "not-found");
        assertEquals(sessions, count(backend.database(), "SELECT COUNT(*) AS n FROM node_sessions"));
    }

    @Test
    void otherCustomersCannotReadAJob() {
        backend.database().execute().insert("INSERT INTO customers (id, name, created_at)"
                + " VALUES ('other', 'Other', CURRENT_TIMESTAMP)");
        backend.database().execute().insert("INSERT INTO api_keys (id, customer_id, name, prefix, key_sha256,"
                + " created_at) VALUES ('key_other', 'other', 'other', 'other-', ?, CURRENT_TIMESTAMP)",
                Ids.sha256Hex("other-key"));
        Resp r = api.post("/api/jobs", CUSTOMER_KEY, JOB);
        assertEquals(202, r.status());
        api.get(r.location(), "other-key").problem(404, "not-found");
        assertEquals(200, api.get(r.location(), CUSTOMER_KEY).status());
        // finish it so no other test sees it queued
        api.complete(api.register(), r.json().path("id").asText());
    }

    @Test
    void badResultsAreRefusedAndChangeNothing() {
        String token = api.register();
        String jobId = api.post("/api/jobs", CUSTOMER_KEY, JOB).json().path("id").asText();
        JsonNode lease = api.lease(token, jobId);
        String good = Api.resultBody(lease, "e");
        api.result(token, good, null).problem(400, "validation");
        api.result(token, good.replace("\"token_count\":3", "\"token_count\":2"), "k1").problem(400, "validation");
        api.result(token, good.replace("[1,2,3]", "[1,2,99999999]"), "k2").problem(400, "validation");
        api.result(token, good.replace("1.5", "-1"), "k3").problem(400, "validation");
        api.result(token, good.replace("[1,2,3],\"token_count\":3", "[1,2,3,4,5],\"token_count\":5"), "k4")
                .problem(400, "validation");
        api.result(token, good.replace(jobId, "job_unknown"), "k5").problem(404, "not-found");
        api.result(token, good.replace(lease.path("lease_id").asText(), "lease_forged"), "k6")
                .problem(409, "conflict");
        assertEquals(0, count(backend.database(), "SELECT COUNT(*) AS n FROM job_results WHERE job_id = ?", jobId));
        assertEquals(0, count(backend.database(), "SELECT COUNT(*) AS n FROM ledger_transactions WHERE job_id = ?",
                jobId));
        Resp ok = api.result(token, good, UUID.randomUUID().toString());
        assertEquals(200, ok.status(), ok.text());
    }

    @Test
    void staticContent() {
        Resp index = api.get("/", null);
        assertEquals(200, index.status());
        assertTrue(index.contentType().startsWith("text/html"), index.contentType());
        assertEquals(404, api.get("/no-such-page.html", null).status());
        // the other modules' web/ folders are on the classpath and served too
        for (String path : new String[] {"/demo/index.html", "/embed.js", "/demo/", "/portal/", "/widget/", "/node/node-worker.js"}) {
            assertEquals(200, api.get(path, null).status(), path);
        }
        // browsers only stream-compile WebAssembly served as application/wasm
        Resp wasm = api.get("/node/app.wasm", null);
        assertEquals(200, wasm.status());
        assertEquals("application/wasm", wasm.contentType());
    }
}
