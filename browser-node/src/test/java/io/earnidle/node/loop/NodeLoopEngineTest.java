package io.earnidle.node.loop;

import io.earnidle.node.engine.Engine;
import io.earnidle.node.engine.EngineChoice;
import io.earnidle.node.engine.JvmEngine;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.LlamaConfig;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The loop over an engine the platform loads ({@link NodeHost#loadEngine}) whose steps complete asynchronously (as
 * WebGPU's do), on the virtual clock of {@link FakeHost}: the engine's name in status and result, the
 * candidates asked for under the GPU limit, a pause while a step is in flight, and a next job on the same engine
 * that waits for that step instead of overlapping it.
 */
class NodeLoopEngineTest {
    static final double STEP_MS = 5;

    /** A JVM engine whose steps complete {@link #STEP_MS} later on the host's clock; checks that steps never overlap. */
    static class AsyncEngine implements Engine {
        final JvmEngine inner;
        final FakeHost host;
        int inFlight;
        int maxInFlight;
        int steps;
        boolean closed;

        AsyncEngine(byte[] model, FakeHost host) {
            this.inner = new JvmEngine(LlamaModel.load(ByteBuffer.wrap(model.clone())), "async-test");
            this.host = host;
        }

        public String name() {
            return "async-test";
        }

        public LlamaConfig config() {
            return inner.config();
        }

        public Tokenizer tokenizer() {
            return inner.tokenizer();
        }

        public void begin(int positions) {
            assertEquals(0, inFlight, "begin() while a step is in flight");
            inner.begin(positions);
        }

        public void step(int token, int pos, int output, StepCallback cb) {
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            steps++;
            int[] a = new int[1];
            float[][] l = new float[1][];
            String[] err = new String[1];
            inner.step(token, pos, output, (argmax, logits, error) -> {
                a[0] = argmax;
                l[0] = logits;
                err[0] = error;
            });
            host.later(STEP_MS, () -> {
                inFlight--;
                cb.done(a[0], l[0], err[0]);
            });
        }

        public Map<String, Object> counters() {
            return Map.of();
        }

        public void close() {
            closed = true;
        }
    }

    static class EngineHost extends FakeHost {
        final List<List<EngineChoice>> asked = new ArrayList<>();
        final List<AsyncEngine> engines = new ArrayList<>();

        EngineHost(byte[] model) {
            super(model);
        }

        @Override
        public void loadEngine(byte[] gguf, List<EngineChoice> candidates, EngineCallback cb) {
            asked.add(candidates);
            AsyncEngine e = new AsyncEngine(gguf, this);
            engines.add(e);
            later(1, () -> cb.loaded(e, List.of("webgpu: test adapter missing")));
        }
    }

    private static int[] ids(String resultBody) {
        List<?> l = (List<?>) Json.obj(Json.parse(resultBody), "result").get("token_ids");
        return l.stream().mapToInt(o -> ((Double) o).intValue()).toArray();
    }

    private static Map<String, Object> status(String json) {
        return Json.obj(Json.parse(json), "status");
    }

    @Test
    void jobsRunOnTheLoadedEngineAndAPauseDropsTheStepInFlight() {
        byte[] model = ModelSynthesizer.tinyBytes(3);
        EngineHost host = new EngineHost(model);
        host.resultFailures = 0;
        host.jobJson = NodeLoopTest.jobJson("\"prompt\":\"Hello world\",\"prompt_ids\":null,\"add_bos\":true", 200);
        NodeLoop loop = new NodeLoop(host, "http://h", "p", null, Json.parse("{\"cpu_share\":1,\"gpu\":false}"));
        assertEquals("test", loop.engineName(), "before a model is loaded: the platform's Java engine");
        loop.start();
        host.runFor(60_000);
        assertEquals(1, loop.jobsCompleted());
        assertEquals(List.of(List.of(EngineChoice.WASM_SIMD)), host.asked, "gpu off: no WebGPU candidate");
        assertEquals(0, host.gpuProbes);
        String result = host.requests.stream().filter(r -> r[1].endsWith("/api/inference/result")).findFirst()
                .orElseThrow()[4];
        assertEquals("async-test", Json.obj(Json.parse(result), "r").get("engine"));
        int[] expected = LlamaModel.load(ByteBuffer.wrap(model))
                .generate(new GenerationRequest("Hello world", null, true, 200, Sampling.greedy())).tokenIds();
        assertArrayEquals(expected, ids(result));
        Map<String, Object> running = host.statuses.stream().map(NodeLoopEngineTest::status)
                .filter(s -> "running".equals(s.get("state"))).findFirst().orElseThrow();
        assertEquals("async-test", running.get("engine"));
        assertEquals(List.of("webgpu: test adapter missing"), running.get("engine_notes"));
        AsyncEngine engine = host.engines.get(0);

        // the next job: pause while a step is in flight
        host.pollsBeforeJob = 0;
        host.jobJson = host.jobJson.replace("job_1", "job_2").replace("lease_1", "lease_2");
        int stepsBefore = engine.steps;
        for (int i = 0; i < 100_000 && engine.steps < stepsBefore + 10; i++) {
            host.pump(1);
        }
        assertEquals(1, engine.inFlight, "a step is in flight");
        loop.pause();
        assertEquals("paused", loop.state(), "paused at once, not after the step");
        assertTrue(String.valueOf(host.lastStatus().get("message")).contains("job_2 cancelled"), host.lastStatus().toString());
        int stepsAtPause = engine.steps;

        // resume at once: the job is handed out again while the cancelled step still runs on the same engine
        host.pollsBeforeJob = 0;
        loop.resume();
        host.runFor(60_000);
        assertEquals(2, loop.jobsCompleted());
        assertEquals(1, engine.maxInFlight, "steps never overlapped");
        assertEquals(1, host.engines.size(), "the loaded engine was reused");
        assertFalse(engine.closed);
        assertTrue(engine.steps > stepsAtPause);
        List<String[]> results = host.requests.stream().filter(r -> r[1].endsWith("/api/inference/result")).toList();
        assertEquals("job_2", Json.obj(Json.parse(results.get(results.size() - 1)[4]), "r").get("job_id"));
        assertArrayEquals(expected, ids(results.get(results.size() - 1)[4]), "the resumed job's ids");
        assertEquals(1, host.count(".gguf"), "one download");
    }

    @Test
    void gpuOnAsksForWebGpuFirstUnlessTheProbeFoundNoAdapter() {
        byte[] model = ModelSynthesizer.tinyBytes(3);
        EngineHost host = new EngineHost(model) {
            @Override
            public void probeGpu(DoneCallback cb) {
                gpuProbes++;
                cb.done(true);
            }
        };
        host.resultFailures = 0;
        NodeLoop loop = new NodeLoop(host, "http://h", "p", null, Json.parse("{\"cpu_share\":1,\"gpu\":true}"));
        loop.start();
        host.runFor(60_000);
        assertEquals(1, loop.jobsCompleted());
        assertEquals(List.of(List.of(EngineChoice.WEBGPU, EngineChoice.WASM_SIMD)), host.asked);

        EngineHost noAdapter = new EngineHost(model); // FakeHost's probe finds no adapter
        noAdapter.resultFailures = 0;
        NodeLoop loop2 = new NodeLoop(noAdapter, "http://h", "p", null, Json.parse("{\"cpu_share\":1,\"gpu\":true}"));
        loop2.start();
        noAdapter.runFor(60_000);
        assertEquals(1, loop2.jobsCompleted());
        assertEquals(1, noAdapter.gpuProbes);
        assertEquals(List.of(List.of(EngineChoice.WASM_SIMD)), noAdapter.asked);
    }

    @Test
    void anEngineThatFailsMidJobIsDroppedAndNotTriedAgain() {
        byte[] model = ModelSynthesizer.tinyBytes(3);
        List<AsyncEngine> gpuEngines = new ArrayList<>();
        EngineHost host = new EngineHost(model) {
            @Override
            public void probeGpu(DoneCallback cb) {
                cb.done(true);
            }

            @Override
            public void loadEngine(byte[] gguf, List<EngineChoice> candidates, EngineCallback cb) {
                if (!candidates.contains(EngineChoice.WEBGPU)) {
                    super.loadEngine(gguf, candidates, cb);
                    return;
                }
                asked.add(candidates);
                AsyncEngine lost = new AsyncEngine(gguf, this) {
                    @Override
                    public String name() {
                        return "webgpu";
                    }

                    @Override
                    public void step(int token, int pos, int output, StepCallback cb) {
                        if (steps == 3) {
                            steps++;
                            host.later(STEP_MS, () -> cb.done(-1, null, "WebGPU device lost: test"));
                        } else {
                            super.step(token, pos, output, cb);
                        }
                    }
                };
                gpuEngines.add(lost);
                later(1, () -> cb.loaded(lost, List.of()));
            }
        };
        host.resultFailures = 0;
        NodeLoop loop = new NodeLoop(host, "http://h", "p", null, Json.parse("{\"cpu_share\":1,\"gpu\":true}"));
        loop.start();
        host.runFor(60_000);
        assertEquals(0, loop.jobsCompleted());
        assertTrue(host.statuses.stream().map(NodeLoopEngineTest::status).anyMatch(s -> "error".equals(s.get("state"))
                && String.valueOf(s.get("message")).contains("device lost: test (engine webgpu)")), host.statuses.toString());
        assertTrue(gpuEngines.get(0).closed, "the failed engine was closed");

        // the job is handed out again: the model goes into the next engine, never WebGPU again
        host.pollsBeforeJob = 0;
        host.runFor(60_000);
        assertEquals(1, loop.jobsCompleted());
        assertEquals(List.of(List.of(EngineChoice.WEBGPU, EngineChoice.WASM_SIMD), List.of(EngineChoice.WASM_SIMD)),
                host.asked);
        assertEquals(2, host.count(".gguf"), "the test job has no sha256, so no cached copy: downloaded again");
        AsyncEngine cpu = host.engines.get(0);
        assertEquals("async-test", loop.engineName());

        loop.stop();
        host.runFor(1_000);
        assertEquals("stopped", loop.state());
        assertTrue(cpu.closed, "stop frees the engine");
        assertEquals("async-test", host.lastStatus().get("engine"), "the last engine stays reported");
    }
}
