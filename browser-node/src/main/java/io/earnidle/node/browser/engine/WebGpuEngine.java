package io.earnidle.node.browser.engine;

import io.earnidle.node.engine.Engine;
import io.earnidle.node.llama.LlamaConfig;
import io.earnidle.node.tokenizer.Tokenizer;
import org.teavm.jso.JSBody;
import org.teavm.jso.JSFunctor;
import org.teavm.jso.JSObject;
import org.teavm.jso.typedarrays.Float32Array;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@link Engine} over {@code web/node/engine/webgpu-engine.js}: Java sends token ids, gets a token id (or logits). */
final class WebGpuEngine implements Engine {
    private final JSObject e;
    private final LlamaConfig c;
    private final Tokenizer tokenizer;

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

    @JSBody(params = {"e", "t", "p", "o", "cb"}, script = """
            e.step(t, p, o).then(function (r) { cb(r.argmax, r.logits, null); },
                function (err) { cb(-1, null, String(err && err.message ? err.message : err)); });
            """)
    private static native void step(JSObject e, int t, int p, int o, JsStep cb);

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
    public void step(int token, int pos, int output, StepCallback cb) {
        step(e, token, pos, output, (argmax, logits, error) -> {
            if (error != null) {
                cb.done(-1, null, error);
                return;
            }
            float[] l = logits == null ? null : logits.copyToJavaArray();
            int a = argmax;
            if (l != null) {
                a = io.earnidle.node.llama.Sampler.argmax(l);
            }
            cb.done(a, l, null);
        });
    }

    @Override
    public Map<String, Object> counters() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String k : new String[] {"dispatches_per_token", "dispatches_per_layer", "submits_per_token",
                "bytes_read_back_per_token", "weight_bytes_per_token", "lm_head_parts", "embed_parts",
                "max_storage_binding_bytes", "tokens"}) {
            String v = counter(e, k);
            if (v != null) {
                m.put(k, Double.parseDouble(v));
            }
        }
        m.put("reduction", counter(e, "reduction"));
        m.put("adapter", counter(e, "adapter"));
        return m;
    }

    @Override
    public void close() {
        close(e);
    }
}
