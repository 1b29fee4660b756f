package io.earnidle.node.browser.engine;

import io.earnidle.node.engine.EngineChoice;
import io.earnidle.node.engine.EngineGenerator;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.loop.Json;
import org.teavm.jso.JSBody;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code earnidle infer --engine wasm|webgpu} inside the browser: the page's worker calls the exported
 * {@code runInference(json)} with the request; the result (the CLI's JSON object, plus counters, plus the first
 * logits when asked) is posted back as {@code {type:"infer-result", json}}.
 */
public final class InferEntry {
    private InferEntry() {
    }

    @JSBody(params = "json", script = "self.postMessage({type: 'infer-result', json: json});")
    private static native void post(String json);

    @JSBody(script = "return self.crossOriginIsolated === true;")
    private static native boolean isolated();

    public static void run(String requestJson) {
        try {
            start(Json.obj(Json.parse(requestJson), "request"));
        } catch (RuntimeException e) {
            fail(e.getMessage());
        }
    }

    private static void fail(String message) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("error", message == null ? "error" : message);
        post(Json.write(o));
    }

    @SuppressWarnings("unchecked")
    private static void start(Map<String, Object> m) {
        String engine = Json.optStr(m, "engine");
        List<EngineChoice> cands = EngineChoice.candidates(engine, true);
        String prompt = Json.optStr(m, "prompt");
        int[] ids = null;
        if (m.get("prompt_ids") instanceof List<?> l) {
            ids = new int[l.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = (int) Math.round((Double) l.get(i));
            }
        }
        List<String> stop = new ArrayList<>();
        if (m.get("stop") instanceof List<?> l) {
            for (Object o : l) {
                stop.add((String) o);
            }
        }
        Sampling s = new Sampling((float) Json.num(m, "temperature", 0), (int) Json.num(m, "top_k", 0),
                (float) Json.num(m, "top_p", 1), (long) Json.num(m, "seed", 0), (float) Json.num(m, "min_p", 0),
                (float) Json.num(m, "repeat_penalty", 1), (int) Json.num(m, "repeat_last_n", Sampling.DEFAULT_REPEAT_LAST_N),
                stop);
        GenerationRequest req = new GenerationRequest(prompt, ids, prompt != null, (int) Json.num(m, "max_tokens", 16), s);
        boolean wantLogits = Boolean.TRUE.equals(m.get("logits"));
        int threads = (int) Json.num(m, "threads", 0);
        int maxBinding = (int) Json.num(m, "max_binding_bytes", 0);
        int stepsAhead = (int) Json.num(m, "steps_ahead", -1);
        int runs = (int) Json.num(m, "runs", 1);
        if (runs < 1 || runs > 100) {
            fail("runs must be 1..100, got " + runs);
            return;
        }
        long t0 = System.nanoTime();
        BrowserEngines.load(cands, Json.str(m, "model_url"), threads, maxBinding, null, (loaded, error) -> {
            if (error != null) {
                fail(error);
                return;
            }
            double loadMs = (System.nanoTime() - t0) / 1e6;
            if (stepsAhead >= 0 && loaded.engine() instanceof WebGpuEngine w) {
                try {
                    w.setStepsAhead(stepsAhead);
                } catch (RuntimeException ex) {
                    loaded.engine().close();
                    fail(String.valueOf(ex.getMessage()));
                    return;
                }
            }
            List<int[]> runIds = new ArrayList<>();
            List<double[]> runTimes = new ArrayList<>();
            generateRuns(loaded.engine(), req, wantLogits, runs, runIds, runTimes, out -> {
                if (out.error() != null) {
                    fail(out.error());
                    return;
                }
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("engine", loaded.engine().name());
                o.put("prompt_ids", out.promptIds());
                o.put("ids", out.result().tokenIds());
                o.put("text", out.result().text());
                o.put("load_ms", round3(loadMs));
                o.put("prefill_ms", round3(out.result().prefillMs()));
                o.put("decode_ms", round3(out.result().decodeMs()));
                int decoded = out.result().tokenIds().length - 1;
                o.put("decode_tokens_per_s", decoded > 0 && out.result().decodeMs() > 0
                        ? round3(decoded * 1000.0 / out.result().decodeMs()) : 0.0);
                o.put("cross_origin_isolated", isolated());
                o.put("counters", loaded.engine().counters());
                if (runs > 1) {
                    // every run's ids and times: the first run is a fresh engine's, the later ones a warm engine's
                    o.put("runs_ids", runIds);
                    List<Double> prefill = new ArrayList<>(), decode = new ArrayList<>();
                    for (double[] t : runTimes) {
                        prefill.add(round3(t[0]));
                        decode.add(round3(t[1]));
                    }
                    o.put("runs_prefill_ms", prefill);
                    o.put("runs_decode_ms", decode);
                }
                if (!loaded.fallbacks().isEmpty()) {
                    o.put("fallbacks", loaded.fallbacks());
                }
                String json = Json.write(o);
                if (wantLogits && out.firstLogits() != null) {
                    StringBuilder sb = new StringBuilder(json.length() + out.firstLogits().length * 12);
                    sb.append(json, 0, json.length() - 1).append(",\"logits\":[");
                    float[] l = out.firstLogits();
                    for (int i = 0; i < l.length; i++) {
                        if (i > 0) {
                            sb.append(',');
                        }
                        sb.append(Float.isFinite(l[i]) ? Float.toString(l[i]) : "null");
                    }
                    json = sb.append("]}").toString();
                }
                loaded.engine().close();
                post(json);
            });
        });
    }

    /**
     * Runs the request {@code runs} times on the same loaded engine (what the node does job after job; tests check
     * that a run leaves nothing behind that changes the next); {@code done} gets the last run's outcome, or the first
     * error, {@code runIds} every run's ids and {@code runTimes} every run's prefill and decode milliseconds.
     */
    private static void generateRuns(io.earnidle.node.engine.Engine engine, GenerationRequest req, boolean wantLogits,
                                     int runs, List<int[]> runIds, List<double[]> runTimes, EngineGenerator.Done done) {
        EngineGenerator.generate(engine, req, wantLogits, out -> {
            if (out.error() == null) {
                runIds.add(out.result().tokenIds());
                runTimes.add(new double[] {out.result().prefillMs(), out.result().decodeMs()});
            }
            if (out.error() != null || runs == 1) {
                done.done(out);
            } else {
                generateRuns(engine, req, wantLogits, runs - 1, runIds, runTimes, done);
            }
        });
    }

    private static double round3(double v) {
        return Math.round(v * 1000.0) / 1000.0;
    }
}
