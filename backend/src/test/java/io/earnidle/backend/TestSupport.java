package io.earnidle.backend;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.earnidle.backend.db.Database;
import io.earnidle.testsupport.Folders;
import io.earnidle.testsupport.PostgresCluster;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.dbclient.DbRow;
import io.helidon.http.HeaderNames;
import io.helidon.webclient.http1.Http1ClientRequest;
import io.helidon.webclient.http1.Http1ClientResponse;
import io.helidon.webclient.http1.Http1Client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shared test plumbing: config, a settable clock, a small JSON HTTP client and ledger invariant checks. */
final class TestSupport {
    static final ObjectMapper MAPPER = new ObjectMapper();
    static final String CUSTOMER_KEY = "demo-customer-key";

    private TestSupport() {
    }

    /**
     * Root config: the given keys over the classpath application.yaml, data under {@code dataDir}. The store is the
     * embedded H2 file there, or, when the system property {@code earnidle.test.store} is {@code postgres} (the
     * backend's second surefire run), a PostgreSQL database of its own on the test run's {@link PostgresCluster}.
     */
    static Config config(Path dataDir, Map<String, String> extra) {
        Map<String, String> m = new HashMap<>();
        // tests that do not measure capability lease their jobs at once, as before benchmarks and the warm
        // preference (docs/trust.md); CapabilityTest turns both on
        m.put("earnidle.capability.benchmark.enabled", "false");
        m.put("earnidle.capability.dispatch.preference-wait-ms", "0");
        m.putAll(extra);
        m.put("earnidle.data-dir", dataDir.toString());
        m.putAll(PostgresCluster.storeConfig(dataDir));
        return Config.builder()
                .disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource()
                .addSource(ConfigSources.create(m))
                .addSource(ConfigSources.classpath("application.yaml"))
                .build();
    }

    static Path tempDir() {
        try {
            return Files.createTempDirectory("earnidle-backend-test");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        Folders.deleteTree(dir);
    }

    /** A clock the test moves forward by hand. */
    static final class MutableClock extends Clock {
        private volatile Instant now = Instant.now();

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    /** An HTTP response with its body as text and (when JSON) parsed; retryAfter is the header's value or null. */
    record Resp(int status, String contentType, String location, long contentLength, byte[] bytes,
                String retryAfter) {
        String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }

        JsonNode json() {
            try {
                return MAPPER.readTree(bytes);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + text(), e);
            }
        }

        /** Asserts an RFC 9457 problem with this status and type suffix. */
        JsonNode problem(int expectedStatus, String typeSuffix) {
            assertEquals(expectedStatus, status, text());
            assertTrue(contentType.startsWith("application/problem+json"), contentType);
            JsonNode p = json();
            assertEquals("https://earnidle.io/problems/" + typeSuffix, p.path("type").asText(), text());
            assertEquals(expectedStatus, p.path("status").asInt());
            assertTrue(p.path("detail").asText().length() > 5, "detail is clear: " + text());
            assertTrue(p.path("instance").asText().startsWith("/"), text());
            return p;
        }
    }

    /**
     * A client of its own for {@code baseUri}, for one thread: its connections are not shared with any other client.
     * Helidon 4.1.7 shares one keep-alive cache among all clients of the JVM and returns a connection to it before
     * starting its idle monitor (fixed in Helidon 4.4.0, helidon-io/helidon#10880); a thread that takes the
     * connection in between races the monitor, which can read the first byte of its response (a status line read as
     * {@code TTP/1.1}). Concurrent requests therefore each run on a client of their own, used by one thread.
     */
    static Http1Client ownClient(String baseUri) {
        return Http1Client.builder().baseUri(baseUri).shareConnectionCache(false).build();
    }

    static Http1Client ownClient(java.net.URI baseUri) {
        return Http1Client.builder().baseUri(baseUri).shareConnectionCache(false).build();
    }

    /** JSON API client over a Helidon {@link Http1Client}. */
    static final class Api {
        private final Http1Client client;

        Api(Http1Client client) {
            this.client = client;
        }

        Resp get(String path, String token) {
            Http1ClientRequest req = client.get(path);
            if (token != null) {
                req.header(HeaderNames.AUTHORIZATION, "Bearer " + token);
            }
            try (Http1ClientResponse r = req.request()) {
                return resp(r);
            }
        }

        Resp post(String path, String token, String body) {
            return post(path, token, body, "application/json", null);
        }

        Resp post(String path, String token, String body, String contentType, String idempotencyKey) {
            Http1ClientRequest req = client.post(path);
            if (token != null) {
                req.header(HeaderNames.AUTHORIZATION, "Bearer " + token);
            }
            if (contentType != null) {
                req.header(HeaderNames.CONTENT_TYPE, contentType);
            }
            if (idempotencyKey != null) {
                req.header(HeaderNames.create("Idempotency-Key"), idempotencyKey);
            }
            try (Http1ClientResponse r = req.submit(body.getBytes(StandardCharsets.UTF_8))) {
                return resp(r);
            }
        }

        private static Resp resp(Http1ClientResponse r) {
            byte[] bytes = r.entity().hasEntity() ? r.as(byte[].class) : new byte[0];
            return new Resp(r.status().code(),
                    r.headers().first(HeaderNames.CONTENT_TYPE).orElse(""),
                    r.headers().first(HeaderNames.LOCATION).orElse(null),
                    r.headers().first(HeaderNames.CONTENT_LENGTH).map(Long::parseLong).orElse(-1L),
                    bytes, r.headers().first(HeaderNames.RETRY_AFTER).orElse(null));
        }

        // ---- protocol steps ----

        /** Registers a node on the demo placement; returns its session token. */
        String register(String limitsJson) {
            Resp r = post("/api/nodes", null, """
                    {"placement_id":"demo-placement",
                     "capabilities":{"webgpu":false,"wasm_simd":true,"threads":false,"cores":2,"device_memory_gb":8},
                     "limits":%s}""".formatted(limitsJson));
            assertEquals(201, r.status(), r.text());
            assertTrue(r.json().path("session_id").asText().startsWith("ns_"));
            return r.json().path("session_token").asText();
        }

        String register() {
            return register("""
                    {"cpu_share":0.5,"gpu":false,"memory_mb":512,"bandwidth_kbps":256}""");
        }

        /** Submits a text job as the demo customer; returns the job JSON (202 asserted). */
        JsonNode submit(String prompt, int maxTokens) {
            Resp r = post("/api/jobs", CUSTOMER_KEY, """
                    {"model":"synthetic-tiny-f32","prompt":%s,"max_tokens":%d,"sampling":{"temperature":0,"seed":42}}"""
                    .formatted(quote(prompt), maxTokens));
            assertEquals(202, r.status(), r.text());
            assertEquals("/api/jobs/" + r.json().path("id").asText(), r.location());
            return r.json();
        }

        /** Polls once and asserts a lease for the expected job. */
        JsonNode lease(String token, String expectedJobId) {
            Resp r = get("/api/inference/job", token);
            assertEquals(200, r.status(), r.text());
            JsonNode j = r.json();
            assertEquals(expectedJobId, j.path("job_id").asText());
            return j;
        }

        /** A result body for a lease with simple valid token ids. */
        static String resultBody(JsonNode lease, String engine) {
            return """
                    {"job_id":"%s","lease_id":"%s","text":" abc","token_ids":[1,2,3],"token_count":3,
                     "engine":"%s","timing":{"prefill_ms":1.5,"decode_ms":2.25}}"""
                    .formatted(lease.path("job_id").asText(), lease.path("lease_id").asText(), engine);
        }

        Resp result(String token, String body, String key) {
            return post("/api/inference/result", token, body, "application/json", key);
        }

        /**
         * The body of a node's honest result for {@code lease}: {@code gen} as the JVM engine produced it from the
         * lease's job ({@code JobSpec.parse(lease).toRequest()}), with a synthetic timing.
         */
        static String honestResultBody(JsonNode lease, io.earnidle.node.llama.GenerationResult gen) {
            try {
                return """
                        {"job_id":"%s","lease_id":"%s","text":%s,"token_ids":%s,"token_count":%d,"engine":"jvm",
                         "timing":{"prefill_ms":1.0,"decode_ms":2.0}}""".formatted(lease.path("job_id").asText(),
                        lease.path("lease_id").asText(), quote(gen.text()),
                        MAPPER.writeValueAsString(gen.tokenIds()), gen.tokenIds().length);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Leases the job and submits a valid result; returns the accepted response. */
        JsonNode complete(String token, String jobId) {
            JsonNode lease = lease(token, jobId);
            Resp r = result(token, resultBody(lease, "test-engine"), UUID.randomUUID().toString());
            assertEquals(200, r.status(), r.text());
            return r.json();
        }
    }

    static String quote(String s) {
        try {
            return MAPPER.writeValueAsString(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- ledger checks, straight from the database ----

    static long balance(Database db, String accountId) {
        return Database.get(db.execute(), "ledger-account", accountId)
                .map(r -> Database.lng(r, "balance_micro_usdc")).orElseThrow();
    }

    static long count(Database db, String sql, Object... params) {
        try (Stream<DbRow> rows = db.execute().query(sql, params)) {
            return Database.lng(rows.findFirst().orElseThrow(), "n");
        }
    }

    /**
     * Every transaction sums to zero, every account's balance equals the sum of its available entries, and all
     * balances sum to zero.
     */
    /** The account's pending + available money from the job's transactions (reversed entries count for nothing). */
    static long moneyFromJob(Database db, String account, String jobId) {
        return count(db, """
                SELECT COALESCE(SUM(e.amount_micro_usdc), 0) AS n FROM ledger_entries e
                JOIN ledger_transactions t ON t.id = e.transaction_id
                WHERE t.job_id = ? AND e.account_id = ? AND e.state IN ('pending', 'available')""", jobId, account);
    }

    static void assertLedgerConsistent(Database db) {
        try (Stream<DbRow> rows = db.execute().query(
                "SELECT transaction_id, SUM(amount_micro_usdc) AS s FROM ledger_entries GROUP BY transaction_id")) {
            List<DbRow> list = rows.toList();
            assertTrue(!list.isEmpty());
            for (DbRow r : list) {
                assertEquals(0L, Database.lng(r, "s"), "transaction " + Database.str(r, "transaction_id"));
            }
        }
        try (Stream<DbRow> rows = db.execute().query("""
                SELECT a.id, a.balance_micro_usdc AS b,
                       COALESCE((SELECT SUM(e.amount_micro_usdc) FROM ledger_entries e
                                 WHERE e.account_id = a.id AND e.state = 'available'), 0) AS s
                FROM ledger_accounts a""")) {
            long total = 0;
            for (DbRow r : rows.toList()) {
                assertEquals(Database.lng(r, "s"), Database.lng(r, "b"), "account " + Database.str(r, "id"));
                total += Database.lng(r, "b");
            }
            long pending = count(db, "SELECT COALESCE(SUM(amount_micro_usdc), 0) AS n FROM ledger_entries"
                    + " WHERE state = 'pending'");
            assertEquals(0L, total + pending, "all balances plus pending credits sum to zero");
        }
    }
}
