package io.earnidle.node.browser;

import io.earnidle.node.engine.EngineReference;
import io.earnidle.node.engine.JavaSimdKernels;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.synth.SynthFileType;
import io.earnidle.node.synth.SynthShape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.chrome.ChromeDriver;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The node in headless Chromium with the kernels served as the backend serves them: with gpu off it runs jobs on the
 * WASM-SIMD engine (never asking for a WebGPU adapter), with gpu on it runs them on WebGPU (SwiftShader here); the
 * engine's name is reported in the status and the submitted result, the ids agree with the JVM references, and a
 * pause during a long job on either engine halts the node within a second without submitting the job. The long job
 * is sized from the engine's speed measured by a probe job ({@link JobSizing}), so it outlasts the pause on a fast
 * machine as on a slow one.
 */
class BrowserNodeEnginesTest {
    static final String PROMPT = "Hello world, this is the test.";
    static final int MAX_TOKENS = 12;

    @TempDir
    static Path dir;
    static byte[] f32;
    static byte[] q4_0;
    static byte[] q8_0;
    /** ~7 MB F32 ({@link JobSizing#LONG_SHAPE}): the long jobs, sized from a probe's measured speed. */
    static byte[] longModel;

    private NodeStub stub;
    private ChromeDriver driver;

    @BeforeAll
    static void models() throws IOException {
        f32 = ModelSynthesizer.tinyBytes(2024);
        for (String t : new String[] {"q4_0", "q8_0"}) {
            ModelSynthesizer.write(dir.resolve(t + ".gguf"), SynthShape.TINY, SynthFileType.named(t), 11, null);
        }
        q4_0 = Files.readAllBytes(dir.resolve("q4_0.gguf"));
        q8_0 = Files.readAllBytes(dir.resolve("q8_0.gguf"));
        Path p = dir.resolve("long.gguf");
        ModelSynthesizer.write(p, JobSizing.LONG_SHAPE, SynthFileType.F32, JobSizing.LONG_SEED, null);
        longModel = Files.readAllBytes(p);
    }

    @BeforeEach
    void startStub() throws IOException {
        stub = new NodeStub();
        stub.serveKernels = true;
        stub.models.put("f32.gguf", f32);
        stub.models.put("q4_0.gguf", q4_0);
        stub.models.put("q8_0.gguf", q8_0);
        stub.models.put("long.gguf", longModel);
    }

    @AfterEach
    void stopStub() throws IOException {
        stub.close();
        assertTrue(stub.failures.isEmpty(), "stub failures: " + stub.failures);
    }

    private JavascriptExecutor js() {
        return driver;
    }

    private void start(String limits) throws IOException {
        driver = stub.chrome();
        driver.get(stub.origin() + "/index.html");
        String start = "{\"type\":\"start\",\"apiBase\":\"" + stub.origin() + "\",\"placementId\":\"test-placement\","
                + "\"capabilities\":{},\"limits\":" + limits + "}";
        js().executeScript("startNode('/node/spy-worker.js', JSON.parse(arguments[0]));", start);
    }

    private List<Map<String, Object>> statuses() {
        return stub.statuses();
    }

    @SuppressWarnings("unchecked")
    private List<Object> gpuSpy() {
        return (List<Object>) js().executeScript("return window.gpuSpy;");
    }

    private Map<String, Object> awaitResult(String jobId) throws InterruptedException {
        stub.awaitStatus(120_000, "result of " + jobId, s -> jobId.equals(s.get("job_id")) && "submitting".equals(s.get("state")));
        long deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline) {
            synchronized (stub.results) {
                for (NodeStub.Result r : stub.results) {
                    if (jobId.equals(r.body().get("job_id"))) {
                        return r.body();
                    }
                }
            }
            Thread.sleep(50);
        }
        fail("no result for " + jobId);
        return null;
    }

    private static int[] ids(Map<String, Object> result) {
        return ((List<?>) result.get("token_ids")).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
    }

    private static GenerationRequest request(String prompt, int maxTokens) {
        return new GenerationRequest(prompt, null, true, maxTokens, Sampling.greedy());
    }

    private static double num(Object o) {
        return ((Number) o).doubleValue();
    }

    /** The engine named in the running statuses of {@code jobId} (all of them agree). */
    private String runningEngine(String jobId) {
        List<Object> engines = statuses().stream()
                .filter(s -> "running".equals(s.get("state")) && jobId.equals(s.get("job_id")))
                .map(s -> s.get("engine")).distinct().toList();
        assertEquals(1, engines.size(), "one engine for job " + jobId + ": " + engines);
        return (String) engines.get(0);
    }

    /**
     * Pauses during a long job at a 30 % share (lower on a machine too fast for the largest job): the node reports
     * "paused" within a second (page clock) and never submits it. The job is sized from a probe job on the same
     * engine, run first at the full share, to last {@link JobSizing#OUTLAST_MS}.
     */
    private void pauseHaltsWithinASecond(String jobId, String engine) throws InterruptedException {
        stub.jobs.add(stub.job(jobId + "-probe", "long", JobSizing.PROMPT, JobSizing.PROBE_TOKENS));
        Map<String, Object> probe = awaitResult(jobId + "-probe");
        assertEquals(engine, probe.get("engine"));
        double msPerToken = JobSizing.msPerToken(probe);
        if (!"webgpu".equals(engine)) {
            // a SIMD step runs on the worker's thread: the pause is handled after it (or at once while the node
            // rests between slices), so the second it is given holds only if a step is far shorter, as measured;
            // a WebGPU step runs on the GPU and leaves the worker free for the pause however long it takes
            assertTrue(msPerToken < 250, engine + ": a step takes " + msPerToken + " ms, too long to test a 1 s pause");
        }
        double share = JobSizing.shareFor(JobSizing.OUTLAST_MS, 0.3, msPerToken);
        int tokens = JobSizing.tokensFor(JobSizing.OUTLAST_MS, share, msPerToken);
        js().executeScript("send({type: 'limits', limits: {cpu_share: arguments[0]}});", share);
        stub.jobs.add(stub.job(jobId, "long", JobSizing.PROMPT, tokens));
        stub.awaitStatus(120_000, "running " + jobId, s -> "running".equals(s.get("state")) && jobId.equals(s.get("job_id"))
                && s.get("progress") instanceof Map<?, ?> p
                && num(p.get("tokens_done")) >= JobSizing.TOKENS_BEFORE_ACTING);
        assertEquals(engine, runningEngine(jobId));
        js().executeScript("send({type: 'pause'});");
        Map<String, Object> paused = stub.awaitStatus(5_000, "paused", s -> "paused".equals(s.get("state")));
        @SuppressWarnings("unchecked")
        double sent = ((List<Map<String, Object>>) js().executeScript("return window.sent;")).stream()
                .filter(s -> "pause".equals(s.get("type"))).mapToDouble(s -> num(s.get("t"))).max().orElseThrow();
        double delay = num(paused.get("t")) - sent;
        System.out.printf("%s: %d tokens at a share of %.3f; paused %.0f ms after the pause message, at %s tokens%n",
                engine, tokens, share, delay,
                ((Map<?, ?>) stub.statuses().get(stub.statuses().indexOf(paused) - 1).get("progress")));
        assertTrue(delay >= 0 && delay <= 1_000, engine + ": pause took " + delay + " ms");
        assertTrue(String.valueOf(paused.get("message")).contains(jobId + " cancelled"), paused.toString());
        Thread.sleep(1_500);
        List<Map<String, Object>> st = statuses();
        List<Map<String, Object>> after = st.subList(st.indexOf(paused), st.size());
        assertTrue(after.stream().noneMatch(s -> "running".equals(s.get("state"))), "no steps after the pause: " + after);
        assertTrue(stub.results.stream().noneMatch(r -> jobId.equals(r.body().get("job_id"))), "cancelled, not submitted");
    }

    @Test
    void gpuOffRunsJobsOnTheWasmSimdEngine() throws Exception {
        start("{\"cpu_share\":1,\"gpu\":false}");
        stub.jobs.add(stub.job("f1", "f32", PROMPT, MAX_TOKENS));
        stub.jobs.add(stub.job("q4", "q4_0", PROMPT, MAX_TOKENS));
        stub.jobs.add(stub.job("q8", "q8_0", PROMPT, MAX_TOKENS));

        Map<String, Object> f = awaitResult("f1");
        String engine = (String) f.get("engine");
        assertTrue(engine.startsWith("wasm-simd"), "engine " + engine);
        assertEquals(engine, runningEngine("f1"), "the status names the engine");
        int[] jvm = LlamaModel.load(ByteBuffer.wrap(f32)).generate(request(PROMPT, MAX_TOKENS)).tokenIds();
        assertArrayEquals(jvm, ids(f), "F32 on wasm-simd: the JVM's greedy ids");

        // Q4_0 / Q8_0 run the integer kernels on Q8_0 activations: compared with the JVM emulation of those kernels,
        // up to the first near tie (BrowserEnginesTest's rule)
        for (String[] t : new String[][] {{"q4", "q4_0"}, {"q8", "q8_0"}}) {
            Map<String, Object> r = awaitResult(t[0]);
            assertEquals(engine, r.get("engine"));
            assertEquals(engine, runningEngine(t[0]));
            EngineReference.Reference ref = EngineReference.reference(
                    JavaSimdKernels.load(dir.resolve(t[1] + ".gguf"), 8 << 20), request(PROMPT, MAX_TOKENS));
            EngineReference.assertGreedyAgrees(ref, ids(r), t[1] + " in the node");
        }
        Map<String, Object> done = stub.awaitStatus(10_000, "3 jobs", s -> num(s.get("jobs_completed")) == 3);
        assertEquals(engine, done.get("engine"));

        // a long job at a 30 % share: the pause cancels it between two SIMD steps
        pauseHaltsWithinASecond("long1", engine);
        assertEquals(List.of(), gpuSpy(), "no WebGPU adapter requested with gpu off");
    }

    @Test
    void gpuOnRunsJobsOnWebGpu() throws Exception {
        start("{\"cpu_share\":1,\"gpu\":true}");
        stub.jobs.add(stub.job("g1", "f32", PROMPT, MAX_TOKENS));
        Map<String, Object> r = awaitResult("g1");
        assertEquals("webgpu", r.get("engine"), "statuses: " + stub.lastStatuses(3));
        assertEquals("webgpu", runningEngine("g1"));
        int[] jvm = LlamaModel.load(ByteBuffer.wrap(f32)).generate(request(PROMPT, MAX_TOKENS)).tokenIds();
        assertArrayEquals(jvm, ids(r), "F32 on WebGPU: the JVM's greedy ids");
        assertTrue(gpuSpy().contains("requestAdapter"), "the GPU was asked for: " + gpuSpy());

        pauseHaltsWithinASecond("long2", "webgpu");

        // the visitor switches the GPU off: the model is reloaded from the cache into the CPU engine
        js().executeScript("send({type: 'limits', limits: {gpu: false, cpu_share: 1}}); send({type: 'resume'});");
        stub.jobs.add(stub.job("l3", "long", JobSizing.PROMPT, 16));
        Map<String, Object> cpu = awaitResult("l3");
        assertTrue(((String) cpu.get("engine")).startsWith("wasm-simd"), "after gpu off: " + cpu.get("engine"));
        assertArrayEquals(
                LlamaModel.load(ByteBuffer.wrap(longModel)).generate(request(JobSizing.PROMPT, 16)).tokenIds(), ids(cpu));
        assertEquals(1, stub.modelGets("long.gguf"), "reloaded from Cache Storage, not downloaded again");
        assertTrue(stub.results.stream().noneMatch(x -> "long2".equals(x.body().get("job_id"))));
    }
}
