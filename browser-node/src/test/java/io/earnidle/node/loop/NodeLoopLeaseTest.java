package io.earnidle.node.loop;

import io.earnidle.node.llama.LlamaModel;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.earnidle.node.loop.NodeLoopLimitsTest.MODEL;
import static io.earnidle.node.loop.NodeLoopLimitsTest.SHA;
import static io.earnidle.node.loop.NodeLoopLimitsTest.host;
import static io.earnidle.node.loop.NodeLoopLimitsTest.job;
import static io.earnidle.node.loop.NodeLoopLimitsTest.jvmGreedy;
import static io.earnidle.node.loop.NodeLoopLimitsTest.results;
import static io.earnidle.node.loop.NodeLoopLimitsTest.runUntil;
import static io.earnidle.node.loop.NodeLoopLimitsTest.start;
import static io.earnidle.node.loop.NodeLoopLimitsTest.tokensDone;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The node keeps its lease on a virtual clock ({@link LeaseKeeper}): progress heartbeats with the output so far while
 * it generates (every {@link LeaseKeeper#EVERY_TOKENS} tokens or {@link LeaseKeeper#EVERY_MS} ms, whichever first),
 * a job dropped when a heartbeat is refused, a failure report for a job it gives up, and registering again when the
 * session is gone.
 */
class NodeLoopLeaseTest {
    private static List<Integer> heartbeatIndexes(FakeHost h) {
        List<Integer> out = new java.util.ArrayList<>();
        for (int i = 0; i < h.requests.size(); i++) {
            if (h.requests.get(i)[1].endsWith("/api/inference/progress")) {
                out.add(i);
            }
        }
        return out;
    }

    private static Map<String, Object> body(FakeHost h, int index) {
        return Json.obj(Json.parse(h.requests.get(index)[4]), "body");
    }

    private static int[] ids(Map<String, Object> body) {
        return ((List<?>) body.get("token_ids")).stream().mapToInt(o -> ((Double) o).intValue()).toArray();
    }

    private static List<Map<String, Object>> failures(FakeHost h) {
        return h.requests.stream().filter(r -> r[1].endsWith("/api/inference/failure"))
                .map(r -> Json.obj(Json.parse(r[4]), "failure")).toList();
    }

    @Test
    void heartbeatsCarryTheOutputSoFarEverySoManyTokensOrSeconds() {
        FakeHost h = host(job("j1", "tiny", SHA, MODEL.length, 200));
        h.clockTick = 5; // one step ≈ 5 virtual ms
        NodeLoop loop = start(h, "{\"cpu_share\":0.5}", "");
        runUntil(h, 600_000, () -> loop.jobsCompleted() == 1);
        int[] result = jvmGreedy(200);
        LlamaModel model = LlamaModel.load(ByteBuffer.wrap(MODEL));
        List<Integer> beats = heartbeatIndexes(h);
        assertTrue(beats.size() >= 200 / LeaseKeeper.EVERY_TOKENS - 1, "heartbeats: " + beats.size());
        int lastTokens = 0;
        double lastAt = Double.NaN;
        for (int i : beats) {
            Map<String, Object> b = body(h, i);
            assertEquals("j1", b.get("job_id"));
            assertEquals("lease_j1", b.get("lease_id"));
            assertEquals("nst_1", h.requests.get(i)[2]);
            int[] got = ids(b);
            assertEquals(got.length, ((Double) b.get("tokens_done")).intValue());
            assertArrayEquals(Arrays.copyOf(result, got.length), got, "the output so far is the result's prefix");
            String text = (String) b.get("text"), decoded = model.tokenizer().decode(got);
            assertTrue(decoded.startsWith(text) && decoded.substring(text.length()).chars().allMatch(c -> c == 0xFFFD),
                    "the text so far, less the bytes of a character not finished yet: " + text);
            double at = h.requestTimes.get(i);
            assertTrue(got.length - lastTokens >= LeaseKeeper.EVERY_TOKENS
                    || (!Double.isNaN(lastAt) && at - lastAt >= LeaseKeeper.EVERY_MS), "not more often than due");
            assertTrue(got.length - lastTokens <= LeaseKeeper.EVERY_TOKENS + 1, "not fewer than due");
            lastTokens = got.length;
            lastAt = at;
        }
        assertTrue(lastTokens < 200, "the result, not a heartbeat, carries the end");
        assertTrue(heartbeatIndexes(h).getLast() < h.requests.indexOf(results(h).getFirst()));
        assertEquals(0, failures(h).size());
    }

    @Test
    void aSlowJobSendsAHeartbeatEveryFewSecondsBetweenTokens() {
        FakeHost h = host(job("j1", "tiny", SHA, MODEL.length, 40));
        h.clockTick = 400; // a slow device: each step takes 400 virtual ms and more
        NodeLoop loop = start(h, "{\"cpu_share\":0.2}", "");
        runUntil(h, 3_600_000, () -> loop.jobsCompleted() == 1);
        List<Integer> beats = heartbeatIndexes(h);
        assertFalse(beats.isEmpty());
        Map<String, Object> first = body(h, beats.getFirst());
        assertTrue(ids(first).length < LeaseKeeper.EVERY_TOKENS, "time, not tokens, was due first: " + first);
        for (int k = 1; k < beats.size(); k++) {
            double gap = h.requestTimes.get(beats.get(k)) - h.requestTimes.get(beats.get(k - 1));
            assertTrue(gap >= LeaseKeeper.EVERY_MS || ids(body(h, beats.get(k))).length
                    - ids(body(h, beats.get(k - 1))).length >= LeaseKeeper.EVERY_TOKENS, "gap " + gap);
        }
    }

    @Test
    void aRefusedHeartbeatDropsTheJob() {
        FakeHost h = host(job("j1", "tiny", SHA, MODEL.length, 200));
        h.clockTick = 5;
        h.progressCode = 409; // the lease expired and went to another node
        NodeLoop loop = start(h, "{\"cpu_share\":0.5}", "");
        runUntil(h, 600_000, () -> h.count("/api/inference/progress") == 1
                && String.valueOf(h.lastStatus().get("message")).contains("dropped"));
        int at = tokensDone(h.lastStatus());
        h.pollsBeforeJob = 1000; // nothing more to do
        h.runFor(10_000);
        assertEquals(0, results(h).size(), "a result the backend would refuse is not computed or sent");
        assertEquals(1, h.count("/api/inference/progress"));
        assertEquals("idle", loop.state());
        assertTrue(at <= LeaseKeeper.EVERY_TOKENS + 1);
        assertEquals(0, failures(h).size(), "a lease already gone is not reported");
    }

    @Test
    void aHeartbeatAnswered401RegistersAgain() {
        FakeHost h = host(job("j1", "tiny", SHA, MODEL.length, 200));
        h.clockTick = 5;
        h.progressCode = 401;
        start(h, "{\"cpu_share\":0.5}", "");
        runUntil(h, 600_000, () -> h.count("/api/nodes") == 2);
        assertEquals(0, results(h).size());
    }

    @Test
    void aPauseGivesTheJobBackAtOnce() {
        FakeHost h = host(job("j1", "tiny", SHA, MODEL.length, 200));
        h.clockTick = 5;
        NodeLoop loop = start(h, "{\"cpu_share\":0.5}", "");
        runUntil(h, 60_000, () -> tokensDone(h.lastStatus()) >= 5);
        loop.pause();
        List<Map<String, Object>> f = failures(h);
        assertEquals(1, f.size());
        assertEquals("j1", f.getFirst().get("job_id"));
        assertEquals("lease_j1", f.getFirst().get("lease_id"));
        assertEquals("cancelled", f.getFirst().get("reason"));
        assertEquals("the node was paused or stopped", f.getFirst().get("detail"));
        int beats = (int) h.count("/api/inference/progress");
        h.runFor(30_000);
        assertEquals(beats, h.count("/api/inference/progress"), "no heartbeats for a job given back");
    }

    @Test
    void aFailedDownloadIsReported() {
        String wrong = SHA.replace(SHA.charAt(0), SHA.charAt(0) == 'a' ? 'b' : 'a');
        FakeHost h = host(job("j1", "tiny", wrong, MODEL.length, 20));
        NodeLoop loop = start(h, "{\"cpu_share\":0.5}", "");
        runUntil(h, 60_000, () -> !failures(h).isEmpty());
        Map<String, Object> f = failures(h).getFirst();
        assertEquals("download_failed", f.get("reason"));
        assertTrue(String.valueOf(f.get("detail")).contains("SHA-256") || String.valueOf(f.get("detail"))
                .toLowerCase(java.util.Locale.ROOT).contains("sha"), f.toString());
        assertEquals(0, loop.jobsCompleted());
    }

    @Test
    void aModelOverTheMemoryLimitIsGivenBack() {
        FakeHost h = host(job("j1", "tiny", SHA, 64L << 20, 20));
        start(h, "{\"cpu_share\":0.5,\"memory_mb\":16}", "");
        runUntil(h, 60_000, () -> !failures(h).isEmpty());
        assertEquals("other", failures(h).getFirst().get("reason"));
        assertTrue(String.valueOf(h.lastStatus().get("message")).contains("given back"), h.lastStatus().toString());
    }

    @Test
    void engineErrorsAreClassified() {
        assertEquals("out_of_memory", LeaseKeeper.reason("RangeError: WebAssembly.Memory.grow(): Maximum memory size"
                + " exceeded", "engine_error"));
        assertEquals("out_of_memory", LeaseKeeper.reason("GPUDevice: out of memory", "engine_error"));
        assertEquals("engine_error", LeaseKeeper.reason("the engine returned token id 9999 outside the vocabulary",
                "engine_error"));
        assertEquals("download_failed", LeaseKeeper.reason("HTTP 503", "download_failed"));
    }

    @Test
    void anExpiredSessionRegistersAgainAndWorksOn() {
        FakeHost h = host(job("j1", "tiny", SHA, MODEL.length, 5));
        h.poll401 = 1; // the session expired before its first poll
        NodeLoop loop = start(h, "{\"cpu_share\":0.5}", "");
        runUntil(h, 120_000, () -> loop.jobsCompleted() == 1);
        assertEquals(2, h.count("/api/nodes"), "registered again after the 401");
        assertEquals(1, results(h).size());
    }

    @Test
    void aPollAtTheLeaseCapIsQuiet() {
        FakeHost h = host(job("j1", "tiny", SHA, MODEL.length, 5));
        h.poll429 = 2;
        NodeLoop loop = start(h, "{\"cpu_share\":0.5}", "");
        runUntil(h, 120_000, () -> loop.jobsCompleted() == 1);
        assertTrue(NodeLoopLimitsTest.statuses(h).stream().noneMatch(s -> "error".equals(s.get("state"))),
                "a 429 is no error");
    }
}
