package io.earnidle.node.loop;

import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.synth.ModelSynthesizer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class NodeLoopTest {

    @Test
    void jsonRoundTrips() {
        String text = "{\"a\":[1,2.5,-3e2,true,false,null],\"s\":\"q\\\"\\\\\\n\\u00e9😀\",\"o\":{}}";
        Object v = Json.parse(text);
        Map<String, Object> m = Json.obj(v, "x");
        assertEquals(List.of(1.0, 2.5, -300.0, true, false), ((List<?>) m.get("a")).subList(0, 5));
        assertEquals("q\"\\\né😀", m.get("s"));
        assertEquals(v, Json.parse(Json.write(v)));
        assertEquals("[1,2,3]", Json.write(new int[] {1, 2, 3}));
        assertEquals("{\"x\":0.5,\"y\":7}", Json.write(Map.of("x", 0.5)).replace("}", ",\"y\":7}"));
        for (String bad : new String[] {"", "{", "[1,]", "{\"a\" 1}", "\"abc", "tru", "1 2", "{\"a\":\"\\x\"}"}) {
            assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
        }
    }

    @Test
    void sha256MatchesTheJdk() throws Exception {
        for (int len : new int[] {0, 1, 55, 56, 63, 64, 65, 1000, 560_000}) {
            byte[] data = new byte[len];
            for (int i = 0; i < len; i++) {
                data[i] = (byte) (i * 31 + 7);
            }
            assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)), Sha256.hex(data));
        }
    }

    @Test
    void backoffGrowsWithJitterUpToTheCap() {
        Backoff b = new Backoff(1000, 10_000, 1);
        long prevCeiling = 1000;
        for (int i = 0; i < 10; i++) {
            long ceiling = Math.min(10_000, 1000L << i);
            long d = b.nextDelayMs();
            assertTrue(d >= ceiling / 2 && d <= ceiling, "attempt " + i + ": " + d);
            prevCeiling = ceiling;
        }
        assertEquals(10_000, prevCeiling);
        b.reset();
        long d = b.nextDelayMs();
        assertTrue(d >= 500 && d <= 1000);
        // jitter: different seeds give different delays
        assertNotEquals(new Backoff(1000, 10_000, 1).nextDelayMs(), new Backoff(1000, 10_000, 2).nextDelayMs());
    }

    static String jobJson(String promptField, int maxTokens) {
        return "{\"job_id\":\"job_1\",\"lease_id\":\"lease_1\",\"lease_expires_at\":\"2026-11-22T10:15:30Z\","
                + "\"model\":{\"id\":\"tiny\",\"url\":\"/models/tiny.gguf\",\"sha256\":null,\"size_bytes\":null},"
                + promptField + ",\"sampling\":{\"temperature\":0.0,\"top_k\":40,\"top_p\":0.95,\"seed\":42},"
                + "\"max_tokens\":" + maxTokens + "}";
    }

    @Test
    void jobSpecValidation() {
        JobSpec j = JobSpec.parse(jobJson("\"prompt\":\"Hello\",\"prompt_ids\":null,\"add_bos\":true", 16));
        assertEquals("job_1", j.jobId());
        assertEquals("Hello", j.prompt());
        assertTrue(j.addBos());
        assertEquals(16, j.maxTokens());
        assertEquals(new Sampling(0f, 40, 0.95f, 42), j.sampling());
        JobSpec ids = JobSpec.parse(jobJson("\"prompt\":null,\"prompt_ids\":[1,2,3],\"add_bos\":false", 4));
        assertArrayEquals(new int[] {1, 2, 3}, ids.promptIds());
        String[] bad = {
            jobJson("\"prompt\":\"a\",\"prompt_ids\":[1]", 4),
            jobJson("\"prompt\":null,\"prompt_ids\":null", 4),
            jobJson("\"prompt\":\"a\"", 0),
            jobJson("\"prompt\":\"a\"", 100000),
            jobJson("\"prompt_ids\":[1.5]", 4),
            jobJson("\"prompt_ids\":[]", 4),
            jobJson("\"prompt\":\"a\"", 4).replace("\"top_p\":0.95", "\"top_p\":0"),
            jobJson("\"prompt\":\"a\"", 4).replace("\"temperature\":0.0", "\"temperature\":-1"),
            jobJson("\"prompt\":\"a\"", 4).replace("\"job_id\":\"job_1\"", "\"job_id\":\"\""),
            jobJson("\"prompt\":\"a\"", 4).replace("\"sha256\":null", "\"sha256\":\"xyz\""),
            "[]",
        };
        for (String b : bad) {
            assertThrows(IllegalArgumentException.class, () -> JobSpec.parse(b), b);
        }
    }

    @Test
    void loopRegistersPollsRunsAndSubmitsWithOneIdempotencyKey() {
        byte[] model = ModelSynthesizer.tinyBytes(3);
        FakeHost host = new FakeHost(model);
        NodeLoop loop = NodeLoop.fromStartMessage(host, "{\"type\":\"start\",\"apiBase\":\"http://h:1/\","
                + "\"placementId\":\"demo-placement\",\"capabilities\":{\"cores\":2},\"limits\":{\"cpu_share\":0.5}}");
        loop.start();
        host.pump(40);
        assertEquals(1, loop.jobsCompleted());
        String[] reg = host.requests.get(0);
        assertEquals("http://h:1/api/nodes", reg[1]);
        assertEquals(Map.of("placement_id", "demo-placement", "capabilities", Map.of("cores", 2.0),
                "limits", Map.of("cpu_share", 0.5), "engines", List.of("test"), "models_held", List.of()),
                Json.parse(reg[4]));
        List<String[]> results = host.requests.stream().filter(r -> r[1].endsWith("/api/inference/result")).toList();
        assertEquals(3, results.size(), "two network failures then success");
        for (String[] r : results) {
            assertEquals("key-1", r[3], "retries reuse the Idempotency-Key");
            assertEquals("nst_1", r[2]);
            assertEquals(results.get(0)[4], r[4], "retries send the same body");
        }
        Map<String, Object> body = Json.obj(Json.parse(results.get(0)[4]), "result");
        int[] expected = LlamaModel.load(ByteBuffer.wrap(model))
                .generate(new GenerationRequest("Hello world", null, true, 5, Sampling.greedy())).tokenIds();
        List<?> ids = (List<?>) body.get("token_ids");
        assertEquals(expected.length, ids.size());
        for (int i = 0; i < expected.length; i++) {
            assertEquals((double) expected[i], ids.get(i));
        }
        assertEquals((double) expected.length, body.get("token_count"));
        assertEquals("test", body.get("engine"));
        assertTrue(host.states().containsAll(List.of("registering", "idle", "downloading", "running", "submitting")));
        String lastIdle = host.statuses.get(host.statuses.size() - 1);
        Map<String, Object> st = Json.obj(Json.parse(lastIdle), "s");
        assertEquals(1130.0, st.get("last_payout_micro_usdc"));
        assertEquals(2260.0, st.get("balance_micro_usdc"));
        assertEquals("ns_1", st.get("session_id"));
        // polls after 204/503 were delayed by the backoff (base = poll_interval_ms 1000, equal jitter)
        assertTrue(host.delays.stream().anyMatch(d -> d >= 500 && d <= 1000));
        assertTrue(host.delays.stream().allMatch(d -> d <= NodeLoop.MAX_BACKOFF_MS));
        // the model is cached per id: a second job would not download again
        assertEquals(1, host.requests.stream().filter(r -> r[1].endsWith(".gguf")).count());

        loop.pause();
        host.pump(20); // an in-flight poll completes, then the state is reported
        assertEquals("paused", loop.state());
        int before = host.requests.size();
        host.pump(20);
        assertEquals(before, host.requests.size(), "no polling while paused");
        loop.resume();
        host.pump(3);
        assertTrue(host.requests.size() > before, "polling resumes");
        loop.stop();
        host.pump(20);
        assertEquals("stopped", loop.state());
        int afterStop = host.requests.size();
        host.pump(20);
        assertEquals(afterStop, host.requests.size());
    }

    @Test
    void aWalletVerifiedLaterClaimsTheRunningSession() {
        FakeHost host = new FakeHost(ModelSynthesizer.tinyBytes(3));
        host.pollsBeforeJob = 1000; // no job: the session idles and polls
        NodeLoop loop = NodeLoop.fromStartMessage(host, "{\"type\":\"start\",\"apiBase\":\"http://h:1/\","
                + "\"placementId\":\"p\",\"capabilities\":{},\"limits\":{}}");
        loop.start();
        host.pump(5);
        Map<String, Object> before = Json.obj(Json.parse(host.statuses.get(host.statuses.size() - 1)), "s");
        assertEquals(false, before.get("wallet_linked"));

        loop.control("{\"type\":\"link\",\"wallet_token\":\"wt_bad\"}");
        host.pump(5);
        Map<String, Object> refused = Json.obj(Json.parse(host.statuses.get(host.statuses.size() - 1)), "s");
        assertEquals(false, refused.get("wallet_linked"));
        assertTrue(String.valueOf(refused.get("link_error")).contains("401"), refused.toString());

        loop.control("{\"type\":\"link\",\"wallet_token\":\"wt_ok\"}");
        host.pump(5);
        List<String[]> links = host.requests.stream().filter(r -> r[1].equals("http://h:1/api/wallets/sessions")).toList();
        assertEquals(2, links.size());
        assertEquals("wt_ok", links.get(1)[2], "the wallet token is the bearer");
        assertEquals(Map.of("session_token", "nst_1"), Json.parse(links.get(1)[4]), "the node's own session is claimed");
        Map<String, Object> linked = Json.obj(Json.parse(host.statuses.get(host.statuses.size() - 1)), "s");
        assertEquals(true, linked.get("wallet_linked"));
        assertNull(linked.get("link_error"));
        assertEquals("ns_1", linked.get("session_id"), "the same session keeps running");
        assertEquals(1, host.count("/api/nodes"), "no second registration");
        long polls = host.count("/api/inference/job");
        host.pump(5);
        assertTrue(host.count("/api/inference/job") > polls, "polling goes on");
        loop.control("{\"type\":\"link\",\"wallet_token\":\"wt_ok\"}");
        host.pump(5);
        assertEquals(2, host.count("/api/wallets/sessions"), "an already linked session is not linked again");
        loop.stop();
        host.pump(20);
    }

    @Test
    void jobErrorsAreReportedAndTheLoopContinues() {
        FakeHost host = new FakeHost(new byte[] {1, 2, 3}); // not a GGUF
        host.pollsBeforeJob = 0;
        NodeLoop loop = new NodeLoop(host, "http://h", "p", null, null);
        loop.start();
        host.pump(16); // register, model report, poll, download, failure report, status, the next polls
        assertTrue(host.statuses.stream().anyMatch(s -> s.contains("\"state\":\"error\"") && s.contains("job_1 failed")),
                host.statuses.toString());
        long pollsAfter = host.requests.stream().filter(r -> FakeHost.path(r[1]).endsWith("/api/inference/job")).count();
        assertTrue(pollsAfter >= 2, "kept polling after the failed job");
        assertEquals(0, loop.jobsCompleted());
    }
}
