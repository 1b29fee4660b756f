package io.earnidle.node.loop;

import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.synth.SynthFileType;
import io.earnidle.node.synth.SynthShape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The node loop's limits and controls on a virtual clock: step-wise jobs under pause/resume/stop, the CPU duty
 * cycle, visibility/battery pauses, runtime limits, the wallet token, and the model download (cache, integrity,
 * resume, throttling, memory and session caps).
 */
class NodeLoopLimitsTest {
    static final String PROMPT = "Hello world";
    static final byte[] MODEL = ModelSynthesizer.tinyBytes(3);
    static final String SHA = Sha256.hex(MODEL);

    static String job(String jobId, String modelId, String sha, long size, int maxTokens) {
        return "{\"job_id\":\"" + jobId + "\",\"lease_id\":\"lease_" + jobId + "\","
                + "\"lease_expires_at\":\"2030-01-01T00:00:00Z\",\"model\":{\"id\":\"" + modelId + "\","
                + "\"url\":\"/models/" + modelId + ".gguf\",\"sha256\":" + (sha == null ? "null" : "\"" + sha + "\"")
                + ",\"size_bytes\":" + (size < 0 ? "null" : size) + "},\"prompt\":\"" + PROMPT + "\","
                + "\"prompt_ids\":null,\"add_bos\":true,"
                + "\"sampling\":{\"temperature\":0.0,\"top_k\":40,\"top_p\":0.95,\"seed\":42},\"max_tokens\":" + maxTokens + "}";
    }

    static NodeLoop start(FakeHost host, String limits, String extra) {
        NodeLoop loop = NodeLoop.fromStartMessage(host, "{\"type\":\"start\",\"apiBase\":\"http://h:1\","
                + "\"placementId\":\"p\",\"capabilities\":{},\"limits\":" + limits + extra + "}");
        loop.start();
        return loop;
    }

    static FakeHost host(String jobJson) {
        FakeHost h = new FakeHost(MODEL);
        h.pollsBeforeJob = 0;
        h.resultFailures = 0;
        h.jobJson = jobJson;
        return h;
    }

    static List<Map<String, Object>> statuses(FakeHost h) {
        return h.statuses.stream().map(j -> Json.obj(Json.parse(j), "status")).toList();
    }

    static int tokensDone(Map<String, Object> status) {
        Object p = status.get("progress");
        return p == null ? -1 : ((Double) ((Map<?, ?>) p).get("tokens_done")).intValue();
    }

    static List<String[]> results(FakeHost h) {
        return h.requests.stream().filter(r -> r[1].endsWith("/api/inference/result")).toList();
    }

    static int[] jvmGreedy(int maxTokens) {
        return LlamaModel.load(ByteBuffer.wrap(MODEL))
                .generate(new GenerationRequest(PROMPT, null, true, maxTokens, Sampling.greedy())).tokenIds();
    }

    static void assertSubmittedTokens(String[] resultRequest, int[] expected) {
        Map<String, Object> body = Json.obj(Json.parse(resultRequest[4]), "result");
        int[] got = ((List<?>) body.get("token_ids")).stream().mapToInt(o -> ((Double) o).intValue()).toArray();
        assertArrayEquals(expected, got);
    }

    /** Runs virtual time until {@code cond} holds (fails after {@code maxMs}). */
    static void runUntil(FakeHost h, double maxMs, java.util.function.BooleanSupplier cond) {
        double end = h.now + maxMs;
        while (!cond.getAsBoolean()) {
            assertTrue(h.now < end, "condition not met in " + maxMs + " virtual ms; statuses: "
                    + h.statuses.subList(Math.max(0, h.statuses.size() - 5), h.statuses.size()));
            h.runFor(5);
        }
    }

    @Test
    void pauseCancelsARunningJobAtOnceAndResumeRunsItAgain() {
        FakeHost h = host(job("j1", "tiny", SHA, MODEL.length, 200));
        h.clockTick = 5; // every clock read costs 5 virtual ms: one step ≈ 5 ms
        NodeLoop loop = start(h, "{\"cpu_share\":0.5}", "");
        runUntil(h, 60_000, () -> tokensDone(h.lastStatus()) >= 5);
        double pausedAt = h.now;
        loop.control("{\"type\":\"pause\"}");
        Map<String, Object> st = h.lastStatus();
        assertEquals("paused", st.get("state"), "pause takes effect at once");
        assertEquals("visitor", st.get("paused_reason"));
        assertTrue(((String) st.get("message")).contains("j1 cancelled"), st.toString());
        int statusesAtPause = h.statuses.size();
        long pollsAtPause = h.count("/api/inference/job");
        h.runFor(5_000);
        assertEquals(0, results(h).size(), "a cancelled job is never submitted");
        assertEquals(pollsAtPause, h.count("/api/inference/job"), "no polling while paused");
        assertTrue(statuses(h).subList(statusesAtPause, h.statuses.size()).stream()
                .noneMatch(s -> "running".equals(s.get("state"))), "no further steps");
        assertTrue(h.now - pausedAt >= 5_000);

        h.pollsBeforeJob = 0; // the lease expired: the backend hands the job out again
        loop.control("{\"type\":\"resume\"}");
        assertNotEquals("paused", h.lastStatus().get("state"));
        runUntil(h, 600_000, () -> loop.jobsCompleted() == 1);
        assertEquals(1, results(h).size());
        assertSubmittedTokens(results(h).get(0), jvmGreedy(200));
        assertEquals(1, h.count(".gguf"), "the model stays in memory across the pause");
    }

    @Test
    void pauseCloseToTheEndFinishesAndSubmitsFirst() {
        FakeHost h = host(job("j1", "tiny", SHA, MODEL.length, 200));
        h.clockTick = 5;
        NodeLoop loop = start(h, "{\"cpu_share\":0.5}", "");
        runUntil(h, 600_000, () -> tokensDone(h.lastStatus()) >= 185);
        loop.pause();
        assertTrue(h.lastStatus().get("message").toString().contains("finishing job j1"), h.lastStatus().toString());
        double at = h.now;
        runUntil(h, 1_000, () -> "paused".equals(h.lastStatus().get("state")));
        assertTrue(h.now - at <= 1_000);
        assertEquals(1, results(h).size(), "finished and submitted within the second");
        assertEquals(1, loop.jobsCompleted());
        assertSubmittedTokens(results(h).get(0), jvmGreedy(200));
    }

    @Test
    void stopCancelsTheJobAndEndsTheLoop() {
        FakeHost h = host(job("j1", "tiny", SHA, MODEL.length, 200));
        h.clockTick = 5;
        NodeLoop loop = start(h, "{\"cpu_share\":0.5}", "");
        runUntil(h, 60_000, () -> tokensDone(h.lastStatus()) >= 5);
        loop.control("{\"type\":\"stop\"}");
        assertEquals("stopped", h.lastStatus().get("state"));
        int n = h.requests.size();
        h.pollsBeforeJob = 0;
        loop.control("{\"type\":\"resume\"}");
        h.runFor(20_000);
        assertEquals(n, h.requests.size(), "nothing after stop, resume included");
        assertEquals("stopped", loop.state());
        assertEquals(0, results(h).size());
    }

    @Test
    void dutyCycleHoldsTheShare() {
        for (double share : new double[] {0.05, 0.3, 0.7, 1.0}) {
            DutyCycle d = new DutyCycle(share);
            double now = 0;
            double sliceMs = 3.7;
            for (int i = 0; i < 20_000; i++) {
                double start = now;
                now += sliceMs;
                double sleep = d.afterSlice(start, now);
                // a yield costs 0.02 ms; timers fire up to 1.3 ms late
                now += sleep > 0 ? Math.floor(sleep) + 1.3 : 0.02;
            }
            double bf = d.busyFraction(now);
            assertEquals(share, bf, 0.02, "share " + share);
        }
        // a 4-thread engine: wall-clock busy time is a quarter of the share, the CPU used (and reported) the share
        for (double share : new double[] {0.3, 1.0}) {
            DutyCycle d = new DutyCycle(share);
            d.setParallelism(4);
            double now = 0;
            double busy = 0;
            for (int i = 0; i < 20_000; i++) {
                double start = now;
                now += 3.7;
                busy += 3.7;
                double sleep = d.afterSlice(start, now);
                now += sleep > 0 ? Math.floor(sleep) + 1.3 : 0.02;
            }
            assertEquals(share / 4, busy / now, 0.01, "wall busy at share " + share);
            assertEquals(share, d.busyFraction(now), 0.03, "reported CPU share " + share);
        }
        DutyCycle d = new DutyCycle(0.5);
        assertEquals(0, d.busyFraction(100));
        d.afterSlice(0, 10);
        assertEquals(1.0, d.busyFraction(10), 1e-9);
        assertEquals(0.5, d.busyFraction(20), 1e-9);
        assertEquals(0, d.busyFraction(20_000), 1e-9, "the window slides");
        assertEquals(DutyCycle.MIN_SHARE, DutyCycle.clampShare(0), 0);
        assertEquals(1.0, DutyCycle.clampShare(7), 0);
    }

    @Test
    void theLoopHoldsTheCpuShareAndTakesNewLimitsAtRunTime() {
        FakeHost h = host(job("j1", "tiny", SHA, MODEL.length, 250));
        h.clockTick = 40; // a step costs 40 virtual ms: the job needs about 10 s of CPU
        NodeLoop loop = start(h, "{\"cpu_share\":0.3}", "");
        runUntil(h, 60_000, () -> tokensDone(h.lastStatus()) >= 1);
        h.runFor(6_000);
        Map<String, Object> st = h.lastStatus();
        assertEquals("running", st.get("state"));
        assertEquals(0.3, (Double) st.get("busy_fraction"), 0.05, st.toString());
        assertTrue((Double) st.get("tokens_per_s") > 0);
        loop.control("{\"type\":\"limits\",\"limits\":{\"cpu_share\":0.7}}");
        assertEquals(0.7, (Double) h.lastStatus().get("cpu_share"));
        h.runFor(6_000);
        st = h.lastStatus();
        assertEquals("running", st.get("state"), "the job is long enough");
        assertEquals(0.7, (Double) st.get("busy_fraction"), 0.05, st.toString());
        loop.control("{\"type\":\"limits\",\"limits\":{\"cpu_share\":\"lots\"}}");
        assertTrue(h.lastStatus().get("message").toString().contains("ignored limits"));
        assertEquals(0.7, loop.limits().cpuShare());
        runUntil(h, 600_000, () -> loop.jobsCompleted() == 1);
        assertSubmittedTokens(results(h).get(0), jvmGreedy(250));
    }

    @Test
    void visibilityAndBatteryPauseAsTheVisitorAsked() {
        FakeHost h = host(job("j1", "tiny", SHA, MODEL.length, 4));
        h.pollsBeforeJob = 1000; // nothing to do: the node just polls
        NodeLoop loop = start(h, "{\"only_when_visible\":false,\"pause_on_battery\":false}", "");
        h.runFor(3_000);
        loop.control("{\"type\":\"visibility\",\"visible\":false}");
        loop.control("{\"type\":\"power\",\"on_battery\":true}");
        assertNull(loop.pausedReason(), "not asked to pause");
        assertNotEquals("paused", h.lastStatus().get("state"));
        loop.control("{\"type\":\"limits\",\"limits\":{\"only_when_visible\":true,\"pause_on_battery\":true}}");
        assertEquals("paused", h.lastStatus().get("state"));
        assertEquals("hidden", h.lastStatus().get("paused_reason"));
        long polls = h.count("/api/inference/job");
        h.runFor(30_000);
        assertEquals(polls, h.count("/api/inference/job"));
        loop.control("{\"type\":\"visibility\",\"visible\":true}");
        assertEquals("battery", h.lastStatus().get("paused_reason"));
        loop.control("{\"type\":\"pause\"}");
        assertEquals("visitor", h.lastStatus().get("paused_reason"));
        loop.control("{\"type\":\"resume\"}");
        assertEquals("battery", h.lastStatus().get("paused_reason"), "still on battery");
        loop.control("{\"type\":\"power\",\"on_battery\":false}");
        assertEquals("idle", h.lastStatus().get("state"));
        assertNull(h.lastStatus().get("paused_reason"));
        h.runFor(3_000);
        assertTrue(h.count("/api/inference/job") > polls, "polling again");
    }

    @Test
    void theWalletTokenGoesWithTheRegistration() {
        FakeHost h = host(job("j1", "tiny", SHA, MODEL.length, 4));
        start(h, "{}", ",\"walletToken\":\"wt_123\"");
        h.pump(2);
        Map<String, Object> reg = Json.obj(Json.parse(h.requests.get(0)[4]), "registration");
        assertEquals("wt_123", reg.get("wallet_token"));

        FakeHost refused = host(job("j1", "tiny", SHA, MODEL.length, 4));
        refused.register401 = 1;
        start(refused, "{}", ",\"walletToken\":\"wt_old\"");
        refused.runFor(100);
        List<String[]> regs = refused.requests.stream().filter(r -> r[1].endsWith("/api/nodes")).toList();
        assertEquals(2, regs.size());
        assertEquals("wt_old", Json.obj(Json.parse(regs.get(0)[4]), "r").get("wallet_token"));
        assertFalse(Json.obj(Json.parse(regs.get(1)[4]), "r").containsKey("wallet_token"));
        assertTrue(refused.statuses.stream().anyMatch(s -> s.contains("wallet token was refused")));

        FakeHost none = host(job("j1", "tiny", SHA, MODEL.length, 4));
        start(none, "{}", ",\"walletToken\":null");
        none.pump(2);
        assertFalse(Json.obj(Json.parse(none.requests.get(0)[4]), "r").containsKey("wallet_token"));
    }

    @Test
    void gpuIsNeverAskedForWhenItIsOff() {
        FakeHost h = host(job("j1", "tiny", SHA, MODEL.length, 4));
        NodeLoop loop = start(h, "{\"gpu\":false}", "");
        runUntil(h, 60_000, () -> loop.jobsCompleted() == 1);
        assertEquals(0, h.gpuProbes);
        loop.control("{\"type\":\"limits\",\"limits\":{\"gpu\":true}}");
        assertEquals(1, h.gpuProbes, "asked once the visitor allows it");
    }

    @Test
    void theModelIsCachedVerifiedAndRefetchedWhenCorrupt() {
        FakeHost h = host(job("j1", "tiny", SHA, MODEL.length, 4));
        NodeLoop first = start(h, "{}", "");
        runUntil(h, 60_000, () -> first.jobsCompleted() == 1);
        String key = NodeLoop.cacheKey("http://h:1", "tiny", SHA);
        assertArrayEquals(MODEL, h.cache.get(key), "stored under model id + sha256");
        assertEquals(1, h.count(".gguf"));
        first.stop();

        // a reload: a new loop finds the model in the cache and does not download it
        h.pollsBeforeJob = 0;
        NodeLoop second = start(h, "{}", "");
        runUntil(h, 60_000, () -> second.jobsCompleted() == 1);
        assertEquals(1, h.count(".gguf"), "no second download");
        second.stop();

        // a corrupt entry is deleted and the model downloaded again
        byte[] bad = MODEL.clone();
        bad[bad.length / 2] ^= 1;
        h.cache.put(key, bad);
        h.pollsBeforeJob = 0;
        NodeLoop third = start(h, "{}", "");
        runUntil(h, 60_000, () -> third.jobsCompleted() == 1);
        assertEquals(2, h.count(".gguf"));
        assertArrayEquals(MODEL, h.cache.get(key));
        assertTrue(h.statuses.stream().anyMatch(s -> s.contains("is corrupt")));
        assertSubmittedTokens(results(h).get(2), jvmGreedy(4));
    }

    @Test
    void aDownloadResumesWithRangeAndRestartsWithoutIt() {
        for (boolean range : new boolean[] {true, false}) {
            FakeHost h = host(job("j1", "tiny", SHA, MODEL.length, 4));
            h.chunkSize = 65_536;
            h.failReadAfterChunks = 3;
            h.rangeSupport = range;
            NodeLoop loop = start(h, "{}", "");
            runUntil(h, 60_000, () -> loop.jobsCompleted() == 1);
            assertEquals(List.of(0L, 3 * 65_536L), h.streamOpens.stream().map(a -> a[0]).toList());
            assertSubmittedTokens(results(h).get(0), jvmGreedy(4));
            long downloaded = ((Double) h.lastStatus().get("session_download_bytes")).longValue();
            assertEquals(range ? MODEL.length : MODEL.length + 3 * 65_536L, downloaded);
        }
    }

    @Test
    void downloadIsThrottledAndReportsProgress() {
        FakeHost h = host(job("j1", "tiny", SHA, MODEL.length, 4));
        h.chunkSize = 16_384;
        NodeLoop loop = start(h, "{\"bandwidth_kbps\":800}", ""); // 100 bytes per ms
        h.pump(3);
        double t0 = h.now;
        runUntil(h, 60_000, () -> loop.jobsCompleted() == 1);
        double took = h.now - t0;
        double expected = (MODEL.length - 16_384) / 100.0; // the first chunk is free
        assertTrue(took >= expected, took + " ms < " + expected);
        List<Map<String, Object>> downloads = statuses(h).stream().filter(s -> s.get("download") != null)
                .map(s -> s).toList();
        assertTrue(downloads.size() >= 5, "progress reported while downloading");
        Map<?, ?> lastDl = (Map<?, ?>) downloads.get(downloads.size() - 1).get("download");
        assertEquals((double) MODEL.length, lastDl.get("loaded_bytes"));
        assertEquals((double) MODEL.length, lastDl.get("total_bytes"));
        assertTrue(downloads.stream().anyMatch(s -> {
            double l = (Double) ((Map<?, ?>) s.get("download")).get("loaded_bytes");
            return l > 0 && l < MODEL.length;
        }));
    }

    @Test
    void memoryAndSessionBandwidthLimitsRefuseJobs() {
        FakeHost h = host(job("j1", "big", SHA, 5L * 1_048_576, 4));
        NodeLoop loop = start(h, "{\"memory_mb\":4}", "");
        h.runFor(3_000);
        assertEquals(0, h.count(".gguf"), "nothing downloaded");
        assertTrue(h.statuses.stream().anyMatch(s -> s.contains("needs 5 MB, more than the memory limit of 4 MB")),
                h.statuses.toString());
        assertEquals(0, results(h).size());
        assertEquals(0, loop.jobsCompleted());
        assertTrue(h.count("/api/inference/job") >= 2, "keeps polling");

        FakeHost c = host(job("j1", "tiny", SHA, MODEL.length, 4));
        NodeLoop capped = start(c, "{\"bandwidth_mb_per_session\":1}", "");
        runUntil(c, 60_000, () -> capped.jobsCompleted() == 1);
        c.jobJson = job("j2", "tiny-copy", SHA, MODEL.length, 4); // another model id: another download
        c.pollsBeforeJob = 0;
        c.runFor(5_000);
        assertEquals(1, capped.jobsCompleted());
        assertEquals(1, c.count(".gguf"));
        assertTrue(c.statuses.stream().anyMatch(s -> s.contains("beyond the session's bandwidth cap of 1 MB")),
                c.statuses.toString());
    }

    /**
     * A returning visitor's cached model is read from the cache, not downloaded, so it costs nothing of the session's
     * download budget: a model five times the budget runs from the cache, and the same job without the cached copy is
     * refused by the budget.
     */
    @Test
    void aModelInTheBrowsersCacheCostsNothingOfTheSessionsDownloadBudget(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("tiny-k.gguf");
        ModelSynthesizer.write(file, SynthShape.TINY_K, SynthFileType.named("f32"), 5, null);
        byte[] model = Files.readAllBytes(file);
        String sha = Sha256.hex(model);
        String budget = "{\"bandwidth_mb_per_session\":1}";
        assertTrue(model.length > 5 * 1_048_576L, "the model is over five times the 1 MB budget: " + model.length);

        FakeHost cold = new FakeHost(model);
        cold.pollsBeforeJob = 0;
        cold.resultFailures = 0;
        cold.jobJson = job("j1", "tiny-k", sha, model.length, 4);
        NodeLoop refused = start(cold, budget, "");
        cold.runFor(5_000);
        assertEquals(0, refused.jobsCompleted());
        assertEquals(0, cold.count(".gguf"), "not one byte downloaded beyond the budget");
        assertTrue(cold.statuses.stream().anyMatch(s -> s.contains("beyond the session's bandwidth cap of 1 MB")),
                cold.statuses.toString());

        FakeHost warm = new FakeHost(model);
        warm.pollsBeforeJob = 0;
        warm.resultFailures = 0;
        warm.jobJson = job("j1", "tiny-k", sha, model.length, 4);
        warm.cache.put(NodeLoop.cacheKey("http://h:1", "tiny-k", sha), model.clone());
        NodeLoop cached = start(warm, budget, "");
        runUntil(warm, 60_000, () -> cached.jobsCompleted() == 1);
        assertEquals(0, warm.count(".gguf"), "run from the cache");
        Map<String, Object> last = statuses(warm).get(warm.statuses.size() - 1);
        assertEquals(0.0, last.get("session_download_bytes"), last.toString());
        assertEquals(1, results(warm).size());
    }
}
