package io.earnidle.node.browser;

import io.earnidle.node.loop.NodeHost;
import org.teavm.jso.JSBody;
import org.teavm.jso.JSFunctor;
import org.teavm.jso.JSObject;
import org.teavm.jso.typedarrays.Int8Array;

/** {@link NodeHost} on top of the Web Worker global scope (fetch, setTimeout, postMessage, crypto). */
final class BrowserHost implements NodeHost {
    static final String ENGINE = "jvm-wasm-gc";

    @JSFunctor
    interface JsTextCallback extends JSObject {
        void done(int status, String body);
    }

    @JSFunctor
    interface JsBytesCallback extends JSObject {
        void done(int status, Int8Array data, String error);
    }

    @JSFunctor
    interface JsTimerCallback extends JSObject {
        void run();
    }

    @JSBody(params = {"method", "url", "token", "key", "body", "cb"}, script = """
            var h = {};
            if (token) { h['Authorization'] = 'Bearer ' + token; }
            if (key) { h['Idempotency-Key'] = key; }
            var init = {method: method, headers: h, cache: 'no-store'};
            if (body) { h['Content-Type'] = 'application/json'; init.body = body; }
            fetch(url, init).then(function (r) {
                return r.text().then(function (t) { cb(r.status, t); });
            }, function (e) { cb(0, String(e)); });
            """)
    private static native void fetchText(String method, String url, String token, String key, String body,
                                         JsTextCallback cb);

    @JSBody(params = {"url", "cb"}, script = """
            fetch(url).then(function (r) {
                if (!r.ok) { cb(r.status, null, 'HTTP ' + r.status); return; }
                return r.arrayBuffer().then(function (b) { cb(200, new Int8Array(b), ''); });
            }, function (e) { cb(0, null, String(e)); });
            """)
    private static native void fetchArrayBuffer(String url, JsBytesCallback cb);

    @JSBody(params = {"ms", "cb"}, script = "setTimeout(function () { cb(); }, ms);")
    private static native void setTimeout(int ms, JsTimerCallback cb);

    @JSBody(params = {"json"}, script = "self.postMessage(JSON.parse(json));")
    static native void postMessageJson(String json);

    @JSBody(script = """
            if (self.crypto && typeof self.crypto.randomUUID === 'function') { return self.crypto.randomUUID(); }
            var b = new Uint8Array(16);
            self.crypto.getRandomValues(b);
            b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
            var s = '';
            for (var i = 0; i < 16; i++) {
                s += (b[i] + 0x100).toString(16).substring(1);
                if (i === 3 || i === 5 || i === 7 || i === 9) { s += '-'; }
            }
            return s;
            """)
    private static native String randomUuid();

    @JSBody(script = "return Math.floor(Math.random() * 9007199254740991);")
    private static native double randomDouble();

    @Override
    public void request(String method, String url, String bearerToken, String idempotencyKey, String body,
                        HttpCallback cb) {
        fetchText(method, url, bearerToken == null ? "" : bearerToken, idempotencyKey == null ? "" : idempotencyKey,
                body == null ? "" : body, (status, text) -> cb.done(status, text));
    }

    @Override
    public void fetchBytes(String url, BytesCallback cb) {
        fetchArrayBuffer(url, (status, data, error) -> {
            byte[] bytes = data == null ? null : data.copyToJavaArray();
            cb.done(status, bytes, error);
        });
    }

    @Override
    public void schedule(long delayMs, Runnable task) {
        setTimeout((int) Math.max(0, Math.min(delayMs, Integer.MAX_VALUE)), task::run);
    }

    @Override
    public void postStatus(String statusJson) {
        postMessageJson(statusJson);
    }

    @Override
    public String newIdempotencyKey() {
        return randomUuid();
    }

    @Override
    public long randomSeed() {
        return (long) randomDouble();
    }

    @Override
    public String engine() {
        return ENGINE;
    }
}
