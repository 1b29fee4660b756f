package io.earnidle.node.browser.engine;

import io.earnidle.node.engine.Engine;
import io.earnidle.node.llama.LlamaConfig;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.tokenizer.Tokenizer;
import org.teavm.jso.JSBody;
import org.teavm.jso.JSFunctor;
import org.teavm.jso.JSObject;
import org.teavm.jso.typedarrays.Float32Array;
import org.teavm.jso.typedarrays.Int32Array;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@link Engine} over {@code web/node/engine/webgpu-engine.js}: Java sends token ids, gets a token id (or logits).
 * Prefill runs in batches of up to {@link #MAX_PREFILL} tokens (tiled mat-muls, one submit per batch); its logits are
 * not bit-identical to token-by-token steps (counter {@code prefill_bit_identical} = 0). Sampling runs on the GPU
 * ({@link #OUT_SAMPLE}, {@code sample.wgsl}): 4 bytes read back per token, or the logits when the kept set is wider
 * than the kernel's candidate buffer (counter {@code sample_fallbacks}).
 */
final class WebGpuEngine implements Engine {
    /** Tokens per batched prefill call (webgpu-engine.js MAX_PREFILL). */
    static final int MAX_PREFILL = 64;
    private final JSObject e;
    private final LlamaConfig c;
    private final Tokenizer tokenizer;
    private boolean[] seen; // nextDraw's distinct-id scratch (all false between calls)
    private int greedyMore; // greedyStepsMayFollow's hint, for the next OUT_ARGMAX call only

    @JSFunctor
    interface JsStep extends JSObject {
        void done(int argmax, Float32Array logits, String error);
    }

    WebGpuEngine(JSObject e, LlamaConfig c, Tokenizer tokenizer) {
        this.e = e;
        this.c = c;
        this.tokenizer = tokenizer;
        init(e, c.dim(), c.heads(), c.kvHeads(), c.headDim(), c.hiddenDim(), c.rmsEps(), c.ropeTheta(), c.vocabSize());
    }

    @JSBody(params = {"e", "d", "h", "kv", "hd", "ff", "eps", "base", "vocab"}, script = """
            e.init({nEmbd: d, nHead: h, nKvHead: kv, headDim: hd, nFf: ff, eps: eps, freqBase: base, vocab: vocab});
            """)
    private static native void init(JSObject e, int d, int h, int kv, int hd, int ff, float eps, float base, int vocab);

    @JSBody(params = {"e", "n"}, script = "e.begin(n);")
    private static native void begin(JSObject e, int n);

    @JSBody(params = {"e", "t", "p", "o", "more", "cb"}, script = """
            e.step(t, p, o, more).then(function (r) { cb(r.argmax, r.logits, null); },
                function (err) { cb(-1, null, String(err && err.message ? err.message : err)); });
            """)
    private static native void step(JSObject e, int t, int p, int o, int more, JsStep cb);

    @JSBody(params = {"e", "t", "n", "p", "o", "more", "cb"}, script = """
            e.prefill(t, n, p, o, more).then(function (r) { cb(r.argmax, r.logits, null); },
                function (err) { cb(-1, null, String(err && err.message ? err.message : err)); });
            """)
    private static native void prefill(JSObject e, Int32Array t, int n, int p, int o, int more, JsStep cb);

    @JSBody(params = {"e", "n"}, script = "e.setStepsAhead(n);")
    private static native void setStepsAhead(JSObject e, int n);

    @JSBody(params = {"e", "temp", "topK", "topP", "minP", "pen", "u", "ids"}, script = """
            e.nextDraw({temperature: temp, topK: topK, topP: topP, minP: minP, penalty: pen, u: u, penIds: ids});
            """)
    private static native void nextDraw(JSObject e, float temp, int topK, float topP, float minP, float pen, double u,
            Int32Array ids);

    @JSBody(params = {"e", "k"}, script = "var v = e.counters[k]; return v === undefined ? null : String(v);")
    private static native String counter(JSObject e, String k);

    @JSBody(params = "e", script = "e.close();")
    private static native void close(JSObject e);

    @Override
    public String name() {
        return "webgpu";
    }

    @Override
    public LlamaConfig config() {
        return c;
    }

    @Override
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public void begin(int positions) {
        begin(e, positions);
    }

    @Override
    public int maxPrefillBatch() {
        return MAX_PREFILL;
    }

    @Override
    public void prefill(int[] tokens, int count, int pos, int output, StepCallback cb) {
        if (count < 1 || count > MAX_PREFILL || count > tokens.length) {
            throw new IllegalArgumentException("webgpu prefills 1.." + MAX_PREFILL + " tokens per call, asked for " + count);
        }
        Int32Array t = Int32Array.create(count);
        for (int i = 0; i < count; i++) {
            t.set(i, tokens[i]);
        }
        prefill(e, t, count, pos, output, takeGreedyMore(output), results(cb, output));
    }

    @Override
    public boolean samplesOnDevice(Sampling s) {
        return true;
    }

    /** Sends the settings, u and the distinct ids the repetition penalty applies to (as {@code Sampler.penalize}). */
    @Override
    public void nextDraw(Sampling s, double u, int[] history, int historyLength) {
        int[] ids = new int[0];
        int n = 0;
        if (s.repeatPenalty() != 1f && s.repeatLastN() > 0 && history != null && historyLength > 0) {
            if (seen == null) {
                seen = new boolean[c.vocabSize()];
            }
            ids = new int[Math.min(s.repeatLastN(), historyLength)];
            for (int i = Math.max(0, historyLength - s.repeatLastN()); i < historyLength; i++) {
                int t = history[i];
                if (t >= 0 && t < seen.length && !seen[t]) {
                    seen[t] = true;
                    ids[n++] = t;
                }
            }
        }
        Int32Array a = Int32Array.create(n);
        for (int i = 0; i < n; i++) {
            a.set(i, ids[i]);
            seen[ids[i]] = false; // ready for the next draw
        }
        nextDraw(e, s.temperature(), s.topK(), s.topP(), s.minP(), s.repeatPenalty(), u, a);
    }

    @Override
    public void step(int token, int pos, int output, StepCallback cb) {
        step(e, token, pos, output, takeGreedyMore(output), results(cb, output));
    }

    @Override
    public void greedyStepsMayFollow(int steps) {
        greedyMore = Math.max(0, steps);
    }

    private int takeGreedyMore(int output) {
        int m = output == OUT_ARGMAX ? greedyMore : 0;
        greedyMore = 0;
        return m;
    }

    /**
     * Greedy steps the engine may submit ahead of the one asked for (webgpu-engine.js STEPS_AHEAD by default; 0: every
     * step waits for the one before, as a comparison in benchmarks and tests).
     */
    void setStepsAhead(int n) {
        setStepsAhead(e, n);
    }

    /** Logits arrive for OUT_LOGITS (argmax filled in here) and for an OUT_SAMPLE fallback (argmax stays -1). */
    private static JsStep results(StepCallback cb, int output) {
        return (argmax, logits, error) -> {
            if (error != null) {
                cb.done(-1, null, error);
                return;
            }
            float[] l = logits == null ? null : logits.copyToJavaArray();
            int a = argmax;
            if (l != null && output != OUT_SAMPLE) {
                a = io.earnidle.node.llama.Sampler.argmax(l);
            }
            cb.done(a, l, null);
        };
    }

    @Override
    public Map<String, Object> counters() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String k : new String[] {"dispatches_per_token", "dispatches_per_layer", "submits_per_token",
                "bytes_read_back_per_token", "weight_bytes_per_token", "lm_head_parts", "embed_parts",
                "max_storage_binding_bytes", "tokens", "file_bytes", "prefill_max_batch", "prefill_batches",
                "prefill_tokens", "prefill_dispatches_per_layer", "prefill_submits_per_batch", "prefill_bit_identical",
                "sampled_on_device", "sample_fallbacks", "prefill_weight_bytes_per_token", "pipeline_warmup_ms",
                "pipelines_created_late", "steps_ahead", "steps_ahead_used", "steps_ahead_dropped"}) {
            String v = counter(e, k);
            if (v != null) {
                m.put(k, Double.parseDouble(v));
            }
        }
        m.put("reduction", counter(e, "reduction"));
        m.put("adapter", counter(e, "adapter"));
        m.put("workgroup_sizes", counter(e, "workgroup_sizes"));
        return m;
    }

    @Override
    public void close() {
        close(e);
    }
}
